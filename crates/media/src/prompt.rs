//! The shared, immutable table of pre-decoded prompt audio.

use tel_types::PromptId;

/// Pre-decoded 8 kHz linear prompt audio, indexed by [`PromptId`].
///
/// Built on the control side before the audio loop starts (the daemon decodes the prompt
/// files once), then shared read-only with every pipeline as a `&'static` reference: the
/// daemon leaks it with `Box::leak`, so no thread ever drops it and the audio thread never
/// touches a reference count or frees memory.
///
/// ```
/// let mut table = media::PromptTable::new();
/// let hello = table.push(&[100; 800]);
/// assert_eq!(table.samples(hello).map(<[i16]>::len), Some(800));
/// ```
#[derive(Debug, Default, Clone)]
pub struct PromptTable {
    samples: Vec<i16>,
    spans: Vec<(usize, usize)>,
}

impl PromptTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one prompt's samples and returns its id (ids are given out in order from 0).
    ///
    /// # Panics
    /// If the table already holds 65,536 prompts.
    pub fn push(&mut self, samples: &[i16]) -> PromptId {
        let id = u16::try_from(self.spans.len()).expect("at most 65,536 prompts");
        self.spans.push((self.samples.len(), samples.len()));
        self.samples.extend_from_slice(samples);
        PromptId(id)
    }

    /// The samples of a prompt, or `None` for an unknown id.
    ///
    /// # Real-time
    /// Does not allocate.
    pub fn samples(&self, id: PromptId) -> Option<&[i16]> {
        let &(start, len) = self.spans.get(usize::from(id.0))?;
        self.samples.get(start..start + len)
    }

    /// How many prompts the table holds.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
}
