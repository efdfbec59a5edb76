//! A mapper plugin that misbehaves on request, for the plugin runtime's limit tests.
//!
//! The per-webhook config value `mode` picks the misbehaviour: `loop` (spin forever), `memory`
//! (allocate until the memory limit), `panic`, `big-output` (return far more ignored fields than
//! allowed), `chatty` (write megabytes to stdout and the log, then succeed), `tags` (echo what
//! the `tag-set` handle answers as call data), `ok` (succeed).

use moja_plugin_sdk::{CallSelector, Command, MapInput, Mapper, PluginError};

/// The misbehaving mapper.
pub struct Hostile;

impl Mapper for Hostile {
    fn map(input: MapInput) -> Result<Command, PluginError> {
        let mode = input
            .config
            .iter()
            .find(|(k, _)| k == "mode")
            .map(|(_, v)| v.as_str())
            .unwrap_or("ok");
        match mode {
            "loop" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "memory" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "panic" => panic!("hostile plugin panics on purpose"),
            "big-output" => {
                let mut command = Command::new(CallSelector::None);
                command.ignored_fields = (0..20_000).map(|i| format!("field_{i:08}")).collect();
                Ok(command)
            }
            "chatty" => {
                let line = "x".repeat(1024);
                for _ in 0..4096 {
                    println!("{line}");
                    moja_plugin_sdk::log::info(&line);
                }
                Ok(Command::new(CallSelector::CallLogId("chatty".into())))
            }
            "tags" => {
                let tags = input.tags;
                let mut command = Command::new(CallSelector::None);
                let shown = |value: Option<String>| value.unwrap_or_else(|| "<none>".into());
                command.call_data = vec![
                    ("len".into(), tags.len().to_string()),
                    ("get:lead_source".into(), shown(tags.get("lead_source"))),
                    ("get:missing".into(), shown(tags.get("missing"))),
                ];
                command.call_data.extend(tags.into_pairs());
                Ok(command)
            }
            _ => Ok(Command::new(CallSelector::CallLogId("ok".into()))),
        }
    }
}

moja_plugin_sdk::export_mapper!(Hostile);
