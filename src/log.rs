//! Logging: `FMI_LOG=debug` (any tracing filter) sends libfmi's logs to stderr.

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Installs a stderr subscriber when `FMI_LOG` is set and no subscriber exists yet.
pub fn init() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if let Ok(filter) = std::env::var("FMI_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(EnvFilter::new(filter))
                .with_writer(std::io::stderr)
                .with_ansi(std::io::stderr().is_terminal())
                .try_init();
        }
    });
}
