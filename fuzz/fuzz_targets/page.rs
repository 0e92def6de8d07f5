#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| genesys_eventbridge_exporter_fuzz::page(data));
