//! `on hangup`: what a script does after the caller hung up during a `record` — the line is
//! released at once, the recording is kept, the branch runs without the caller (hooks keep
//! their timeout), and the call's record comes when it ends. In virtual time.

mod support;

use ivr::{
    AfterId, CallInfo, CallRecord, Diagnostic, EndReason, Engine, HookCall, HookId, HookReply,
    Input, InputError, Output, Script, Severity, check_with,
};
use support::Caller;
use tel_types::{
    ChannelId, Hook, LineEvent, MediaCommand, MediaEvent, ProgressTone, RecordingId, SampleTime,
};

const MESSAGE: &str = r#"
flow main
  answer
  call message -> outcome
  result "message-" + outcome
  play "goodbye"
  hangup
end

flow message
  menu ask
    greeting "press_1"
    key 1: goto rec
    on invalid-limit: return "no"
    on timeout-limit: return "no"
  end
rec:
  record msg
    prompt "after_the_beep"
    max 120s
    on empty: return "empty"
    on hangup
      if msg == ""
        result "abandoned"
        hangup
      end
      hook request_callback(caller_id, "len " + msg.seconds, "42", msg) -> _t
        timeout 4s
        on found: return "left"
        on not-found: return "failed"
        on error: return "failed"
        on timeout
          set why = "slow"
          return "failed-" + why
        end
      end
    end
  end
  play "thanks"
  return "left"
end
"#;

fn script(text: &str) -> Script {
    Script::from_text("t.ivr", text).unwrap_or_else(|e| panic!("{e}"))
}

fn call_info() -> CallInfo {
    CallInfo {
        caller_id: "13800138000".into(),
        ..CallInfo::default()
    }
}

/// A call on channel 1 that pressed 1 and is recording since `c.now` (the prompt played, the
/// beep sounded). Returns the recording's slot.
fn recording(c: &mut Caller) -> RecordingId {
    c.arrive(call_info());
    c.finish_prompts();
    c.key('1');
    c.finish_prompts();
    c.advance(); // the beep
    c.outputs
        .iter()
        .find_map(|o| match o {
            Output::Media(_, MediaCommand::StartRecording { slot, .. }) => Some(*slot),
            _ => None,
        })
        .expect("recording started")
}

fn gone(c: &Caller) -> Option<AfterId> {
    c.outputs.iter().find_map(|o| match o {
        Output::CallerGone(_, id) => Some(*id),
        _ => None,
    })
}

fn after(c: &Caller, id: AfterId) -> Vec<Output> {
    c.outputs
        .iter()
        .filter_map(|o| match o {
            Output::AfterHangup(i, o) if *i == id => Some((**o).clone()),
            _ => None,
        })
        .collect()
}

fn hook_of(outs: &[Output]) -> Option<(HookId, HookCall)> {
    outs.iter().find_map(|o| match o {
        Output::Hook(_, id, call) => Some((*id, call.clone())),
        _ => None,
    })
}

fn ended_of(outs: &[Output]) -> Option<CallRecord> {
    outs.iter().find_map(|o| match o {
        Output::CallEnded(_, r) => Some(r.clone()),
        _ => None,
    })
}

fn rec_done(c: &mut Caller, slot: RecordingId, secs: u32) {
    c.media(MediaEvent::RecordingDone {
        slot,
        samples: secs * 8000,
        stopped_by: None,
    });
}

#[test]
fn a_hangup_mid_recording_releases_the_line_and_files_the_message_after() {
    let mut c = Caller::new(Engine::new(script(MESSAGE)));
    let slot = recording(&mut c);
    c.outputs.clear();
    c.sleep(12_000);
    c.hang_up();
    // The line goes on-hook at once and the channel is handed back.
    let ch = c.ch;
    let id = gone(&c).expect("the caller is gone");
    assert_eq!(
        c.outputs[..3],
        [
            Output::Media(ch, MediaCommand::StopRecording),
            Output::Media(ch, MediaCommand::SetHook(Hook::OnHook)),
            Output::CallerGone(ch, id),
        ]
    );
    // Nothing is filed before the pipeline says how long the recording is.
    assert_eq!(hook_of(&after(&c, id)), None);
    assert_eq!(c.engine.calls(), 1);
    rec_done(&mut c, slot, 12);
    let outs = after(&c, id);
    let (hid, call) = hook_of(&outs).expect("the message is filed after the hangup");
    assert_eq!(
        call,
        HookCall::RequestCallback {
            phone: "13800138000".into(),
            reason: "len 12".into(),
            order_no: Some("42".into()),
            recording: Some(format!("rec-{}", slot.0)),
        }
    );
    // Nothing of that call goes to the channel any more.
    assert!(
        !c.outputs
            .iter()
            .skip(3)
            .any(|o| matches!(o, Output::Media(..)))
    );
    // The next call takes the channel while the shop is still being asked.
    c.outputs.clear();
    c.sleep(300);
    c.arrive(call_info());
    assert!(
        c.outputs
            .iter()
            .any(|o| matches!(o, Output::Media(_, MediaCommand::Play { .. })))
    );
    assert_eq!(c.engine.calls(), 2);
    assert_eq!(
        c.engine
            .handle_input(Input::CallArrived {
                now: c.now,
                ch,
                call: call_info()
            })
            .unwrap_err(),
        InputError::ChannelBusy(ch),
        "the new call owns the channel"
    );
    // The shop answers: the old call ends with its result, the new one goes on.
    c.outputs.clear();
    c.sleep(200);
    let now = c.now;
    c.input(Input::HookReply {
        now,
        ch,
        id: hid,
        reply: HookReply::Found(vec![("ticket".into(), "7".into())]),
    });
    let rec = ended_of(&after(&c, id)).expect("the old call ended");
    assert_eq!(rec.result, "message-left");
    assert_eq!(rec.reason, EndReason::CallerHungUp);
    assert_eq!(rec.ended, now);
    assert!(
        rec.path.iter().any(|p| p == "record msg: hangup"),
        "{:?}",
        rec.path
    );
    assert!(
        !c.outputs.iter().any(|o| matches!(o, Output::CallEnded(..))),
        "the new call is untouched"
    );
    assert_eq!(c.engine.calls(), 1);
    assert!(c.engine.is_waiting_for_keys(ch) || c.engine.call_script(ch).is_some());
}

#[test]
fn after_the_hangup_a_hook_keeps_its_timeout() {
    let mut c = Caller::new(Engine::new(script(MESSAGE)));
    let slot = recording(&mut c);
    c.sleep(30_000);
    c.hang_up();
    let id = gone(&c).unwrap();
    let hung_up_at = c.now;
    rec_done(&mut c, slot, 30);
    assert!(hook_of(&after(&c, id)).is_some());
    // The shop never answers: the hook's own 4 s timeout takes the call on.
    c.advance();
    assert_eq!(c.now, hung_up_at + ivr::Duration::from_secs(4));
    let rec = ended_of(&after(&c, id)).expect("ended at the timeout");
    assert_eq!(rec.result, "message-failed-slow");
    assert_eq!(rec.reason, EndReason::CallerHungUp);
    assert_eq!(c.engine.calls(), 0);
    assert_eq!(c.deadline, None);
}

#[test]
fn busy_tone_mid_recording_counts_as_the_hangup() {
    let mut c = Caller::new(Engine::new(script(MESSAGE)));
    let slot = recording(&mut c);
    c.outputs.clear();
    c.sleep(9_000);
    c.media(MediaEvent::Progress {
        tone: ProgressTone::Busy,
        at: SampleTime::ZERO,
    });
    let id = gone(&c).unwrap();
    // Busy tone is not an on-hook the pipeline sees: the engine stops the recording.
    assert!(
        c.outputs
            .contains(&Output::Media(c.ch, MediaCommand::StopRecording))
    );
    rec_done(&mut c, slot, 9);
    assert!(hook_of(&after(&c, id)).is_some());
}

#[test]
fn a_recording_whose_end_is_never_reported_is_timed_by_the_engine() {
    let mut c = Caller::new(Engine::new(script(MESSAGE)));
    recording(&mut c);
    c.sleep(20_000);
    c.hang_up();
    let id = gone(&c).unwrap();
    c.advance(); // the safety net
    let (_, call) = hook_of(&after(&c, id)).expect("filed on the engine's own clock");
    let HookCall::RequestCallback { reason, .. } = call else {
        panic!("{call:?}")
    };
    assert_eq!(reason, "len 20");
}

#[test]
fn a_hangup_before_the_recording_starts_runs_the_branch_with_nothing_recorded() {
    let mut c = Caller::new(Engine::new(script(MESSAGE)));
    c.arrive(call_info());
    c.finish_prompts();
    c.key('1');
    c.outputs.clear();
    // The prompt before the beep is still playing.
    c.hang_up();
    let ch = c.ch;
    let id = gone(&c).unwrap();
    assert!(
        c.outputs
            .contains(&Output::Media(ch, MediaCommand::StopPlayback))
    );
    assert!(
        !c.outputs
            .contains(&Output::Media(ch, MediaCommand::StopRecording))
    );
    let outs = after(&c, id);
    assert_eq!(hook_of(&outs), None, "nothing to file");
    let rec = ended_of(&outs).unwrap();
    assert_eq!(rec.result, "abandoned");
    assert_eq!(rec.reason, EndReason::CallerHungUp);
    assert_eq!(c.engine.calls(), 0);
}

#[test]
fn a_hangup_anywhere_else_ends_the_call_as_before() {
    let mut c = Caller::new(Engine::new(script(MESSAGE)));
    c.arrive(call_info());
    c.outputs.clear();
    c.hang_up(); // in the menu
    assert_eq!(gone(&c), None);
    let rec = ended_of(&c.outputs).expect("plain CallEnded");
    assert_eq!(rec.result, "abandoned");
    assert_eq!(rec.reason, EndReason::CallerHungUp);
    assert!(
        !c.outputs
            .iter()
            .any(|o| matches!(o, Output::AfterHangup(..)))
    );

    // A record without `on hangup` loses nothing it did not lose before: the call ends.
    let plain = script(
        "flow main\n  answer\n  record m\n    beep off\n  end\n  hook request_callback(caller_id, \"x\", \"\", m)\n    on error: hangup\n    on timeout: hangup\n  end\nend\n",
    );
    let mut c = Caller::new(Engine::new(plain));
    c.arrive(call_info());
    c.outputs.clear();
    c.hang_up();
    assert_eq!(gone(&c), None);
    assert!(
        c.outputs
            .contains(&Output::Media(c.ch, MediaCommand::StopRecording))
    );
    assert_eq!(ended_of(&c.outputs).unwrap().result, "abandoned");
    assert_eq!(hook_of(&c.outputs), None);
}

#[test]
fn without_the_caller_the_script_stops_at_the_first_statement_that_needs_them() {
    // The branch returns; the calling flow sets its result, then would play: the call
    // ends there, and nothing is played.
    let mut c = Caller::new(Engine::new(script(MESSAGE)));
    let slot = recording(&mut c);
    c.sleep(5_000);
    c.hang_up();
    let id = gone(&c).unwrap();
    rec_done(&mut c, slot, 5);
    let (hid, _) = hook_of(&after(&c, id)).unwrap();
    c.outputs.clear();
    let (now, ch) = (c.now, c.ch);
    c.input(Input::HookReply {
        now,
        ch,
        id: hid,
        reply: HookReply::NotFound,
    });
    let outs = after(&c, id);
    assert_eq!(outs.len(), 1, "{outs:?}");
    assert_eq!(ended_of(&outs).unwrap().result, "message-failed");
    assert!(
        c.outputs
            .iter()
            .all(|o| matches!(o, Output::AfterHangup(..)))
    );
}

#[test]
fn shutdown_ends_a_call_that_runs_on_after_its_caller() {
    let mut c = Caller::new(Engine::new(script(MESSAGE)));
    let slot = recording(&mut c);
    c.hang_up();
    let id = gone(&c).unwrap();
    rec_done(&mut c, slot, 3);
    c.outputs.clear();
    let now = c.now;
    c.input(Input::Shutdown(now));
    let outs = after(&c, id);
    let rec = ended_of(&outs).unwrap();
    assert_eq!(rec.reason, EndReason::Shutdown);
    assert!(!outs.iter().any(|o| matches!(o, Output::Media(..))));
    assert_eq!(c.engine.calls(), 0);
}

#[test]
fn a_late_hook_reply_for_another_channel_is_not_taken() {
    let mut c = Caller::new(Engine::new(script(MESSAGE)));
    let slot = recording(&mut c);
    c.hang_up();
    let id = gone(&c).unwrap();
    rec_done(&mut c, slot, 3);
    let (hid, _) = hook_of(&after(&c, id)).unwrap();
    let r = c.engine.handle_input(Input::HookReply {
        now: c.now,
        ch: ChannelId(2),
        id: hid,
        reply: HookReply::NotFound,
    });
    assert_eq!(r, Err(InputError::NoCall(ChannelId(2))));
    // An on-hook on the released channel is not this call's business either.
    let r = c.engine.handle_input(Input::Media {
        now: c.now,
        ch: c.ch,
        event: MediaEvent::Line {
            at: SampleTime::ZERO,
            event: LineEvent::OnHook,
        },
    });
    assert_eq!(r, Err(InputError::NoCall(c.ch)));
}

// ---------- the checker ----------

fn diags(text: &str) -> Vec<Diagnostic> {
    check_with("s.ivr", |p| {
        if p == "s.ivr" {
            Ok(text.to_string())
        } else {
            Err(std::io::ErrorKind::NotFound.into())
        }
    })
    .1
}

fn errors_at(d: &[Diagnostic]) -> Vec<String> {
    d.iter()
        .filter(|x| x.severity == Severity::Error)
        .map(|x| format!("{}:{}:{}: {}", x.file, x.loc.line, x.loc.col, x.message))
        .collect()
}

fn with_body(body: &str) -> String {
    format!(
        "flow main\n  answer\n  record m\n    on hangup\n{body}    end\n  end\n  hangup\nend\n\nflow plays\n  play \"x\"\nend\n\nflow quiet(v)\n  return v + \"!\"\nend\n"
    )
}

#[test]
fn the_checker_refuses_statements_that_need_the_caller_in_on_hangup() {
    let cases: &[(&str, &str)] = &[
        ("      play \"x\"\n", "`play` cannot run in `on hangup`"),
        ("      say digits m\n", "`say` cannot run in `on hangup`"),
        ("      pause 1s\n", "`pause` cannot run in `on hangup`"),
        (
            "      transfer group \"sales\"\n",
            "`transfer` cannot run in `on hangup`",
        ),
        (
            "      collect d\n        prompt \"x\"\n        on fail: hangup\n      end\n",
            "`collect` cannot run in `on hangup`",
        ),
        (
            "      menu x\n        greeting \"x\"\n        key 1: hangup\n        on invalid-limit: hangup\n        on timeout-limit: hangup\n      end\n",
            "`menu` cannot run in `on hangup`",
        ),
        (
            "      record again\n      end\n",
            "`record` cannot run in `on hangup`",
        ),
        (
            "      call plays\n",
            "flow `plays` cannot be called in `on hangup`",
        ),
        (
            "      hook request_callback(caller_id, \"x\")\n        hold \"wait\"\n        on error: hangup\n        on timeout: hangup\n      end\n",
            "hook `request_callback` in `on hangup` cannot have `hold`",
        ),
    ];
    for (body, msg) in cases {
        let d = diags(&with_body(body));
        let errs = errors_at(&d);
        let want = format!("s.ivr:5:7: {msg}");
        assert!(
            errs.iter().any(|e| e.starts_with(&want)),
            "{body}: want {want}, got {errs:#?}"
        );
        let e = d.iter().find(|x| x.message.contains(msg)).unwrap();
        assert!(
            e.hint.as_deref().unwrap_or("").contains("hung up"),
            "hint: {:?}",
            e.hint
        );
    }
    // A statement nested deeper (in a hook branch inside the body) is caught too.
    let d = diags(&with_body(
        "      hook request_callback(caller_id, \"x\")\n        on found: play \"ok\"\n        on error: hangup\n        on timeout: hangup\n      end\n",
    ));
    assert!(
        errors_at(&d)
            .iter()
            .any(|e| e.starts_with("s.ivr:6:19: `play` cannot run in `on hangup`")),
        "{:#?}",
        errors_at(&d)
    );
    // goto and labels: the body runs once, to its end.
    let d = diags(&with_body(
        "      again:\n      set x = 1\n      goto again\n",
    ));
    let errs = errors_at(&d);
    assert!(
        errs.iter()
            .any(|e| e.starts_with("s.ivr:7:7: `goto` cannot")),
        "{errs:#?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.starts_with("s.ivr:5:7: label `again`")),
        "{errs:#?}"
    );
}

#[test]
fn the_checker_accepts_what_needs_no_caller_in_on_hangup() {
    let body = "      set n = m.seconds\n      language en\n      if m == \"\"\n        result \"abandoned\"\n        hangup\n      end\n      call quiet(m) -> q\n      hook request_callback(caller_id, \"voice\", q, m) -> _t\n        timeout 3s\n        on found: result \"left \" + n\n        on error: return\n        on timeout: return\n      end\n";
    let text = "languages zh-CN, en\n".to_string()
        + &with_body(body).replace("flow plays\n  play \"x\"\nend\n", "");
    let d = diags(&text);
    assert!(
        d.iter().all(|x| x.severity != Severity::Error),
        "{:#?}",
        errors_at(&d)
    );
    // One-line form.
    let d =
        diags("flow main\n  answer\n  record m\n    on hangup: result \"left \" + m\n  end\nend\n");
    assert!(d.iter().all(|x| x.severity != Severity::Error), "{d:#?}");
    // `on hangup` elsewhere is not an option.
    let d = diags("flow main\n  hook find_order(\"1\")\n    on hangup: hangup\n  end\nend\n");
    assert!(
        errors_at(&d)
            .iter()
            .any(|e| e.starts_with("s.ivr:3:8: `hangup` is not an option")),
        "{:#?}",
        errors_at(&d)
    );
}

#[test]
fn two_callers_in_a_row_hang_up_mid_message_on_one_channel_and_both_are_filed() {
    let mut c = Caller::new(Engine::new(script(MESSAGE)));
    let ch = c.ch;
    let mut pending = Vec::new();
    for secs in [7, 11] {
        c.outputs.clear();
        let slot = recording(&mut c);
        c.sleep(secs * 1000);
        c.hang_up();
        let id = gone(&c).unwrap();
        rec_done(&mut c, slot, secs as u32);
        let (hid, call) = hook_of(&after(&c, id)).unwrap();
        let HookCall::RequestCallback { reason, .. } = call else {
            panic!("{call:?}")
        };
        assert_eq!(reason, format!("len {secs}"));
        pending.push((id, hid));
        c.sleep(500);
    }
    assert_eq!(c.engine.calls(), 2);
    // The shop answers the second first: each reply reaches its own call.
    c.outputs.clear();
    for ((id, hid), reply) in pending.into_iter().rev().zip([
        HookReply::NotFound,
        HookReply::Found(vec![("ticket".into(), "1".into())]),
    ]) {
        let now = c.now;
        c.input(Input::HookReply {
            now,
            ch,
            id: hid,
            reply,
        });
        let rec = ended_of(&after(&c, id)).unwrap();
        let want = if id == AfterId(1) {
            "message-left"
        } else {
            "message-failed"
        };
        assert_eq!(rec.result, want);
    }
    assert_eq!(c.engine.calls(), 0);
}
