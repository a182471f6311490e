//! `gantry-step-exec`: the step supervisor alone (`gantry step-exec` is the
//! same code). Started once per shell attempt, so its start-up is on every
//! step's path: this binary holds only the supervisor, and starts in a
//! fraction of the time the whole `gantry` binary takes (fewer pages to
//! map and relocate). The worker uses it when it sits next to `gantry`.

fn main() -> std::process::ExitCode {
    gantry_server::engine::sandbox::supervisor::main()
}
