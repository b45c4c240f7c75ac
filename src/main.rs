fn main() -> std::process::ExitCode {
    api::run()
}
