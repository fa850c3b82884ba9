//! Profile, demand and event parsing + validation, as a submitted body goes through it: bytes ->
//! UTF-8 -> JSON -> `from_json`. Nothing may panic, and a record that validates must survive a
//! round trip through its own serialisation unchanged (what is stored is what is served).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pitchmatch::domain::{DemandArea, Event, Profile};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else { return };
    if let Ok(profile) = Profile::from_json(&value) {
        let again = Profile::from_json(&serde_json::to_value(&profile).unwrap()).expect("a valid profile re-validates");
        assert_eq!(again, profile);
        let _ = pitchmatch::embed::profile_passages(&profile);
    }
    let _ = DemandArea::from_json(&value);
    let _ = Event::from_json(&value);
});
