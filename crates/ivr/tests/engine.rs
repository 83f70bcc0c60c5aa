//! Engine behaviour in virtual time: versions, runtime errors, hang-ups, timers, barge-in.

mod support;

use ivr::{CallInfo, EndReason, Engine, HookReply, Input, InputError, Instant, Output, Script};
use support::Caller;
use tel_types::{ChannelId, Hook, MediaCommand, MediaEvent, ProgressTone, SampleTime};

fn script(text: &str) -> Script {
    Script::from_text("t.ivr", text).unwrap_or_else(|e| panic!("{e}"))
}

fn ended(c: &Caller) -> Option<ivr::CallRecord> {
    c.outputs.iter().find_map(|o| match o {
        Output::CallEnded(_, r) => Some(r.clone()),
        _ => None,
    })
}

fn errors(c: &Caller) -> Vec<ivr::RuntimeError> {
    c.outputs
        .iter()
        .filter_map(|o| match o {
            Output::Error(_, e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

fn transfers(c: &Caller) -> Vec<String> {
    c.outputs
        .iter()
        .filter_map(|o| match o {
            Output::Transfer(_, t) => Some(t.target.clone()),
            _ => None,
        })
        .collect()
}

const MENU: &str = r#"
flow main
  answer
  menu m
    greeting "long" then "short"
    invalid "bad"
    no-input "silence"
    timeout 4s
    timeout-limit 2
    barge-in BARGE
    key 1
      result "one"
      hangup
    end
    on invalid-limit: hangup
    on timeout-limit
      result "gave-up"
      hangup
    end
  end
end
"#;

fn prompt_names(c: &Caller, s: &Script) -> Vec<String> {
    c.outputs
        .iter()
        .filter_map(|o| match o {
            Output::Media(_, MediaCommand::Play { prompt, .. }) => {
                Some(s.prompt(*prompt).unwrap().name.clone())
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_new_version_affects_new_calls_only() {
    let v1 = script("flow main\n  answer\n  pause 10s\n  result \"v1\"\n  hangup\nend\n");
    let v2 = script("flow main\n  answer\n  result \"v2\"\n  hangup\nend\n");
    let mut c = Caller::new(Engine::new(v1));
    c.arrive(CallInfo::default());
    assert_eq!(c.engine.load(v2), 2);
    // A second call on another channel gets v2 and ends at once.
    c.ch = ChannelId(2);
    c.arrive(CallInfo::default());
    let r2 = ended(&c).unwrap();
    assert_eq!((r2.result.as_str(), r2.version), ("v2", 2));
    c.outputs.clear();
    // The first call still runs v1.
    c.ch = ChannelId(1);
    c.advance();
    let r1 = ended(&c).unwrap();
    assert_eq!((r1.result.as_str(), r1.version), ("v1", 1));
    assert_eq!(c.now, Instant::from_secs(10));
}

#[test]
fn a_broken_script_is_refused_so_the_old_one_keeps_running() {
    let mut engine = Engine::new(script("flow main\n  hangup\nend\n"));
    let bad = Script::from_text("new.ivr", "flow main\n  plya \"x\"\nend\n");
    let err = bad.unwrap_err();
    assert!(
        err.to_string()
            .contains("new.ivr:2:3: error: unknown statement `plya`"),
        "{err}"
    );
    assert!(err.to_string().contains("did you mean `play`?"), "{err}");
    // Nothing to load: the engine keeps its script.
    assert_eq!(engine.script().name(), "t.ivr");
    engine
        .handle_input(Input::CallArrived {
            now: Instant::ZERO,
            ch: ChannelId(1),
            call: CallInfo::default(),
        })
        .unwrap();
}

#[test]
fn a_runtime_error_takes_the_error_flow_and_is_logged_with_its_location() {
    let s = script(
        "flow main\n  answer\n  if caller_id == \"1\"\n    set x = \"a\"\n  end\n  say digits x\n  hangup\nend\n\nflow on_error\n  result \"oops\"\n  transfer group \"help\"\nend\n",
    );
    let mut c = Caller::new(Engine::new(s));
    c.arrive(CallInfo {
        caller_id: "2".into(),
        ..CallInfo::default()
    });
    let e = errors(&c);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].at, "t.ivr:6:14");
    assert!(
        e[0].message.contains("`x` has no value"),
        "{}",
        e[0].message
    );
    assert_eq!(transfers(&c), ["help"]);
    let r = ended(&c).unwrap();
    assert_eq!(
        (r.result.as_str(), r.reason, r.errors),
        ("oops", EndReason::Transferred, 1)
    );
}

#[test]
fn without_an_error_flow_the_call_goes_to_the_fallback_group() {
    let s = script(
        "fallback group \"rescue\"\nflow main\n  answer\n  if caller_id < 5\n    hangup\n  end\n  hangup\nend\n",
    );
    let mut c = Caller::new(Engine::new(s));
    c.arrive(CallInfo {
        caller_id: "abc".into(),
        ..CallInfo::default()
    });
    let e = errors(&c);
    assert!(
        e[0].message.contains("cannot compare \"abc\" and \"5\""),
        "{}",
        e[0].message
    );
    assert_eq!(e[0].at, "t.ivr:4:3");
    assert_eq!(transfers(&c), ["rescue"]);
    assert_eq!(ended(&c).unwrap().result, "error");
    // The engine keeps working for the next call.
    c.ch = ChannelId(2);
    c.outputs.clear();
    c.arrive(CallInfo {
        caller_id: "3".into(),
        ..CallInfo::default()
    });
    assert!(errors(&c).is_empty());
    assert_eq!(ended(&c).unwrap().reason, EndReason::Hangup);
}

#[test]
fn a_loop_that_never_waits_is_cut_off() {
    // Calls look like waiting to the checker; the engine's step budget catches the spin.
    let s = script(
        "flow main\n  answer\nspin:\n  call nothing\n  goto spin\nend\n\nflow nothing\n  return\nend\n",
    );
    let mut c = Caller::new(Engine::new(s));
    c.arrive(CallInfo::default());
    let e = errors(&c);
    assert!(e[0].message.contains("without waiting"), "{}", e[0].message);
    assert_eq!(transfers(&c), ["agents"]);
    assert!(c.outputs.len() < 20);
}

#[test]
fn the_checker_refuses_a_loop_without_any_wait() {
    let err = Script::from_text(
        "t.ivr",
        "flow main\nagain:\n  set x = 1\n  goto again\nend\n",
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("this loop never waits for the caller"),
        "{err}"
    );
}

#[test]
fn busy_tone_is_a_hangup() {
    let s = script(&MENU.replace("BARGE", "on"));
    let mut c = Caller::new(Engine::new(s));
    c.arrive(CallInfo::default());
    c.media(MediaEvent::Progress {
        at: SampleTime::ZERO,
        tone: ProgressTone::Busy,
    });
    assert!(
        c.outputs
            .contains(&Output::Media(c.ch, MediaCommand::SetHook(Hook::OnHook)))
    );
    let r = ended(&c).unwrap();
    assert_eq!(
        (r.result.as_str(), r.reason),
        ("abandoned", EndReason::CallerHungUp)
    );
    assert_eq!(c.engine.calls(), 0);
    assert_eq!(
        c.engine
            .handle_input(Input::Timeout(Instant::from_secs(99))),
        Ok(()),
        "timeouts after the call are harmless"
    );
    assert_eq!(
        c.engine.handle_input(Input::Media {
            now: Instant::ZERO,
            ch: c.ch,
            event: MediaEvent::Silence {
                at: SampleTime::ZERO
            }
        }),
        Err(InputError::NoCall(c.ch))
    );
}

#[test]
fn tapered_prompts_and_the_timeout_limit() {
    let s = script(&MENU.replace("BARGE", "on"));
    let names = Script::from_text("t.ivr", &MENU.replace("BARGE", "on")).unwrap();
    let mut c = Caller::new(Engine::new(s));
    c.arrive(CallInfo::default());
    assert_eq!(prompt_names(&c, &names), ["long"]);
    assert_eq!(
        c.deadline,
        Some(Instant::from_secs(30 * 60)),
        "only the max-call timer until the prompt ends"
    );
    c.sleep(3000);
    c.finish_prompts();
    assert_eq!(
        c.deadline,
        Some(Instant::from_secs(7)),
        "4 s no-input timer after the prompt"
    );
    c.advance();
    assert_eq!(prompt_names(&c, &names), ["silence", "short"]);
    c.sleep(2000);
    c.finish_prompts();
    c.advance();
    let r = ended(&c).unwrap();
    assert_eq!(r.result, "gave-up");
    assert_eq!(
        r.path,
        [
            "menu m: timeout",
            "menu m: timeout",
            "menu m: timeout-limit"
        ]
    );
}

#[test]
fn barge_in_stops_the_prompt_and_off_means_the_key_waits() {
    let s = script(&MENU.replace("BARGE", "on"));
    let mut c = Caller::new(Engine::new(s));
    c.arrive(CallInfo::default());
    c.outputs.clear();
    c.key('1');
    assert_eq!(
        c.outputs[0],
        Output::Media(c.ch, MediaCommand::StopPlayback)
    );
    assert_eq!(ended(&c).unwrap().result, "one");

    let s = script(&MENU.replace("BARGE", "off"));
    let mut c = Caller::new(Engine::new(s));
    c.arrive(CallInfo::default());
    let plays: Vec<_> = c.outputs.clone();
    c.outputs.clear();
    c.key('1');
    assert!(
        c.outputs.is_empty(),
        "no barge-in: the key waits for the prompt to end"
    );
    c.outputs = plays;
    c.finish_prompts();
    assert_eq!(ended(&c).unwrap().result, "one");
}

#[test]
fn type_ahead_keys_are_not_lost() {
    let s = script(
        "flow main\n  answer\n  play \"welcome\"\n  collect no\n    prompt \"enter\"\n    max 4\n    on fail: hangup\n  end\n  result no\n  hangup\nend\n",
    );
    let mut c = Caller::new(Engine::new(s));
    c.arrive(CallInfo::default());
    for k in "12".chars() {
        c.key(k);
    }
    // The collect prompt was interrupted by the buffered keys; two more complete it.
    c.key('3');
    c.key('4');
    assert_eq!(ended(&c).map(|r| r.result), Some("1234".into()));
}

#[test]
fn lost_keys_drop_the_half_typed_entry_and_ask_again() {
    let s = script(
        "flow main\n  answer\n  collect no\n    prompt \"enter\"\n    invalid \"bad\"\n    max 4\n    attempts 3\n    on fail: hangup\n  end\n  result no\n  hangup\nend\n",
    );
    let mut c = Caller::new(Engine::new(s));
    c.arrive(CallInfo::default());
    c.finish_prompts();
    c.key('1');
    c.key('2');
    // Keys pressed after these never reached the engine (the event ring was full).
    c.outputs.clear();
    c.media(MediaEvent::EventsLost { count: 2 });
    let s2 = c.engine.script().clone();
    assert_eq!(prompt_names(&c, &s2), ["bad", "enter"], "{:?}", c.outputs);
    c.finish_prompts();
    for k in "5678".chars() {
        c.key(k);
    }
    // Not "125678" or "1256": only what was typed after the loss, in full.
    assert_eq!(ended(&c).map(|r| r.result), Some("5678".into()));
    let r = ended(&c).unwrap();
    assert!(
        r.path.iter().any(|p| p.contains("input lost")),
        "{:?}",
        r.path
    );
}

#[test]
fn lost_keys_in_a_menu_count_as_an_invalid_key() {
    let mut c = Caller::new(Engine::new(script(&MENU.replace("BARGE", "on"))));
    let s = script(&MENU.replace("BARGE", "on"));
    c.arrive(CallInfo::default());
    c.finish_prompts();
    c.outputs.clear();
    c.media(MediaEvent::EventsLost { count: 1 });
    // The invalid prompt, then the greeting again; the call is still in the menu.
    assert_eq!(prompt_names(&c, &s), ["bad", "short"], "{:?}", c.outputs);
    assert!(ended(&c).is_none());
    c.finish_prompts();
    c.key('1');
    let r = ended(&c).unwrap();
    assert_eq!(r.result, "one");
    assert!(
        r.path.iter().any(|p| p == "menu m: input lost"),
        "{:?}",
        r.path
    );
}

#[test]
fn a_late_hook_reply_is_ignored_after_the_timeout() {
    let s = script(
        "flow main\n  answer\n  hook find_order(\"1\") -> o\n    timeout 2s\n    on found: result o.status\n    on not-found: result \"nf\"\n    on error: result \"err\"\n    on timeout: result \"slow\"\n  end\n  hangup\nend\n",
    );
    let mut c = Caller::new(Engine::new(s));
    c.arrive(CallInfo::default());
    let id = c.outputs.iter().find_map(|o| match o {
        Output::Hook(_, id, _) => Some(*id),
        _ => None,
    });
    assert_eq!(c.deadline, Some(Instant::from_secs(2)));
    c.advance();
    assert_eq!(ended(&c).unwrap().result, "slow");
    let late = Input::HookReply {
        now: c.now,
        ch: c.ch,
        id: id.unwrap(),
        reply: HookReply::NotFound,
    };
    assert_eq!(c.engine.handle_input(late), Err(InputError::NoCall(c.ch)));
}

#[test]
fn hook_fields_become_variables() {
    let s = script(
        "flow main\n  answer\n  hook find_order(\"1\") -> o\n    on error: hangup\n    on timeout: hangup\n  end\n  result o + \"/\" + o.status + \"/\" + o.missing + \"/\" + len(o.status)\n  hangup\nend\n",
    );
    let mut c = Caller::new(Engine::new(s));
    c.arrive(CallInfo::default());
    let id = c.outputs.iter().find_map(|o| match o {
        Output::Hook(_, id, _) => Some(*id),
        _ => None,
    });
    let reply = HookReply::Found(vec![("status".into(), "shipped".into())]);
    let (now, ch) = (c.now, c.ch);
    c.input(Input::HookReply {
        now,
        ch,
        id: id.unwrap(),
        reply,
    });
    assert_eq!(ended(&c).unwrap().result, "found/shipped//7");
}

#[test]
fn the_maximum_call_length_ends_a_call() {
    let s = script("max-call 1min\nflow main\n  answer\n  pause 2min\n  hangup\nend\n");
    let mut c = Caller::new(Engine::new(s));
    c.arrive(CallInfo::default());
    c.advance();
    assert_eq!(c.now, Instant::from_secs(60));
    let r = ended(&c).unwrap();
    assert_eq!(
        (r.reason, r.result.as_str()),
        (EndReason::MaxCallTime, "max-call-time")
    );
}

#[test]
fn the_engine_deadline_is_the_earliest_over_all_calls() {
    let s = script("flow main\n  answer\n  pause 10s\n  hangup\nend\n");
    let mut c = Caller::new(Engine::new(s));
    c.arrive(CallInfo::default());
    c.now = Instant::from_secs(3);
    c.ch = ChannelId(2);
    c.arrive(CallInfo::default());
    assert_eq!(c.deadline, Some(Instant::from_secs(10)));
    assert_eq!(
        c.engine.handle_input(Input::CallArrived {
            now: c.now,
            ch: c.ch,
            call: CallInfo::default()
        }),
        Err(InputError::ChannelBusy(c.ch))
    );
    c.advance();
    assert_eq!(c.engine.calls(), 1);
    assert_eq!(c.deadline, Some(Instant::from_secs(13)));
}

#[test]
fn hours_and_holidays_use_the_call_start_time() {
    let text = "hours h\n  mon-fri 09:00-18:00\n  holiday 2026-12-25\nend\nflow main\n  if holiday(h)\n    result \"holiday\"\n  else if open(h)\n    result \"open\"\n  else\n    result \"closed\"\n  end\n  hangup\nend\n";
    let at = |y, m, d, h| CallInfo {
        local: ivr::LocalTime {
            year: y,
            month: m,
            day: d,
            hour: h,
            minute: 0,
        },
        ..CallInfo::default()
    };
    for (call, want) in [
        (at(2026, 11, 23, 10), "open"),    // Monday
        (at(2026, 11, 22, 10), "closed"),  // Sunday
        (at(2026, 11, 23, 18), "closed"),  // closing time
        (at(2026, 12, 25, 10), "holiday"), // Friday, but a holiday
    ] {
        let s = script(text);
        // The script's own answer, for a status page or a demo, agrees with `open(h)`.
        assert_eq!(s.is_open("h", &call.local), Some(want == "open"));
        assert_eq!(s.is_open("nope", &call.local), None);
        let mut c = Caller::new(Engine::new(s));
        c.arrive(call);
        assert_eq!(ended(&c).unwrap().result, want);
    }
}

#[test]
fn the_hours_mode_overrides_the_script_tables() {
    // A 24-hour hotline (or a soak at the peak-hour load all day) and the night-service
    // switch, without editing the script's `hours` table.
    let text = "hours h\n  mon-fri 09:00-18:00\n  holiday 2026-12-25\nend\nflow main\n  if holiday(h)\n    result \"holiday\"\n  else if open(h)\n    result \"open\"\n  else\n    result \"closed\"\n  end\n  hangup\nend\n";
    let at = |y, m, d, h| CallInfo {
        local: ivr::LocalTime {
            year: y,
            month: m,
            day: d,
            hour: h,
            minute: 0,
        },
        ..CallInfo::default()
    };
    for (mode, call, want) in [
        (ivr::HoursMode::Open, at(2026, 11, 22, 3), "open"), // Sunday night
        (ivr::HoursMode::Open, at(2026, 12, 25, 10), "open"), // a holiday
        (ivr::HoursMode::Closed, at(2026, 11, 23, 10), "closed"), // Monday morning
        (ivr::HoursMode::Closed, at(2026, 12, 25, 10), "closed"),
        (ivr::HoursMode::Script, at(2026, 11, 22, 3), "closed"),
        (ivr::HoursMode::Script, at(2026, 12, 25, 10), "holiday"),
    ] {
        let mut e = Engine::new(script(text));
        assert_eq!(e.hours_mode(), ivr::HoursMode::Script);
        e.set_hours_mode(mode);
        assert_eq!(e.hours_mode(), mode);
        let mut c = Caller::new(e);
        c.arrive(call);
        assert_eq!(ended(&c).unwrap().result, want, "{mode:?}");
    }
}

#[test]
fn the_outbound_survey_does_not_answer() {
    let mut c = Caller::new(Engine::new(support::load("survey.ivr")));
    c.arrive(CallInfo {
        outbound: true,
        ..CallInfo::default()
    });
    assert!(
        !c.outputs
            .contains(&Output::Media(c.ch, MediaCommand::SetHook(Hook::OffHook)))
    );
    assert!(c.transcript().contains("Play"));
}

#[test]
fn shutdown_hangs_up_every_call() {
    let s = script("flow main\n  answer\n  pause 1min\n  hangup\nend\n");
    let mut c = Caller::new(Engine::new(s));
    c.arrive(CallInfo::default());
    c.ch = ChannelId(2);
    c.arrive(CallInfo::default());
    c.outputs.clear();
    let now = c.now;
    c.input(Input::Shutdown(now));
    let hangups = c
        .outputs
        .iter()
        .filter(|o| matches!(o, Output::Media(_, MediaCommand::SetHook(Hook::OnHook))))
        .count();
    assert_eq!(hangups, 2);
    assert_eq!(c.engine.calls(), 0);
    assert_eq!(ended(&c).unwrap().reason, EndReason::Shutdown);
    assert_eq!(c.deadline, None);
}

/// The engine's raw inputs and outputs for a small flow, pinned as a golden transcript.
#[test]
fn raw_engine_transcript() {
    let text = r#"
flow main
  answer
  menu m
    greeting "hello"
    key 1
      collect no
        prompt "enter"
        min 3
        max 4
        on fail: hangup
      end
      hook find_order(no) -> o
        timeout 3s
        hold "wait"
        on not-found: play "none"
        on error: hangup
        on timeout: hangup
      end
      say status o.status
      say money "2.50"
    end
    on invalid-limit: hangup
    on timeout-limit: hangup
  end
  hangup
end
"#;
    let mut c = Caller::new(Engine::new(script(text)));
    c.arrive(CallInfo {
        caller_id: "13800138000".into(),
        ..CallInfo::default()
    });
    c.sleep(1200);
    c.finish_prompts();
    c.sleep(800);
    c.key('1');
    c.sleep(1500);
    c.finish_prompts();
    for k in "123".chars() {
        c.sleep(300);
        c.key(k);
    }
    c.advance(); // inter-digit timeout ends the entry
    let id = c.outputs.iter().find_map(|o| match o {
        Output::Hook(_, id, _) => Some(*id),
        _ => None,
    });
    c.sleep(400);
    let (now, ch) = (c.now, c.ch);
    let reply = HookReply::Found(vec![("status".into(), "in_transit".into())]);
    c.input(Input::HookReply {
        now,
        ch,
        id: id.unwrap(),
        reply,
    });
    c.sleep(2000);
    c.finish_prompts();
    support::golden("engine__raw_menu_collect_hook", &c.transcript());
}

#[test]
fn late_caller_id_fills_an_empty_caller_id() {
    let s = script("flow main\n  answer\n  pause 1s\n  result caller_id\n  hangup\nend\n");
    let mut c = Caller::new(Engine::new(s));
    c.arrive(CallInfo::default());
    let caller_id = tel_types::CallerId {
        number: tel_types::FixedStr::new_truncated("13912345678"),
        ..Default::default()
    };
    c.media(MediaEvent::CallerId {
        at: SampleTime::ZERO,
        caller_id,
    });
    c.advance();
    assert_eq!(ended(&c).unwrap().result, "13912345678");
}

#[test]
fn a_stopped_prompt_reported_late_does_not_end_its_replay() {
    // The pipeline reports every stopped prompt done. The stale report of the barged-in
    // greeting must not count for the greeting queued again after the invalid key.
    let text = MENU
        .replace("BARGE", "on")
        .replace("greeting \"long\" then \"short\"", "greeting \"long\"");
    let (s, names) = (script(&text), script(&text));
    let mut c = Caller::new(Engine::new(s));
    c.arrive(CallInfo::default());
    let greeting = c.outputs.iter().find_map(|o| match o {
        Output::Media(_, MediaCommand::Play { prompt, .. }) => Some(*prompt),
        _ => None,
    });
    c.outputs.clear();
    c.sleep(500);
    c.key('7');
    assert_eq!(
        c.outputs[0],
        Output::Media(c.ch, MediaCommand::StopPlayback)
    );
    assert_eq!(prompt_names(&c, &names), ["bad", "long"]);
    // The stale report of the first greeting arrives now.
    c.media(MediaEvent::PlaybackDone {
        prompt: greeting.unwrap(),
        played_samples: 4000,
        barged_in_by: Some(tel_types::Digit::D7),
    });
    assert_eq!(
        c.deadline,
        Some(Instant::from_secs(30 * 60)),
        "no input timer while bad+long still play"
    );
    c.sleep(3000);
    c.finish_prompts();
    assert_eq!(c.deadline, Some(Instant::from_millis(3500 + 4000)));
}

#[test]
fn keys_pressed_during_a_lookup_do_not_choose_in_the_next_menu() {
    let text = "flow main\n  answer\n  hook find_order(\"1\") -> o\n    hold \"wait\"\n    on error: hangup\n    on timeout: hangup\n  end\n  menu m\n    greeting \"g\"\n    key 1\n      result \"one\"\n      hangup\n    end\n    on invalid-limit: hangup\n    on timeout-limit\n      result \"none\"\n      hangup\n    end\n  end\nend\n";
    let mut c = Caller::new(Engine::new(script(text)));
    c.arrive(CallInfo::default());
    let id = c.outputs.iter().find_map(|o| match o {
        Output::Hook(_, id, _) => Some(*id),
        _ => None,
    });
    c.key('1');
    let (now, ch) = (c.now, c.ch);
    c.input(Input::HookReply {
        now,
        ch,
        id: id.unwrap(),
        reply: HookReply::NotFound,
    });
    assert!(
        ended(&c).is_none(),
        "the key pressed on hold must not pick key 1"
    );
}

#[test]
fn a_call_starts_in_its_trunks_language_when_the_script_has_it() {
    let text = "languages zh-CN, en\n\nflow main\n  answer\n  result language\n  hangup\nend\n";
    let started_in = |language: &str| {
        let mut c = Caller::new(Engine::new(script(text)));
        c.arrive(CallInfo {
            language: language.into(),
            ..CallInfo::default()
        });
        ended(&c).expect("the call ended").result
    };
    assert_eq!(started_in("en"), "en");
    assert_eq!(started_in("zh-CN"), "zh-CN");
    // Unset, or a language the script does not have: its first language.
    assert_eq!(started_in(""), "zh-CN");
    assert_eq!(started_in("fr"), "zh-CN");
}
