fn main() -> std::process::ExitCode {
    mas_link::cli::main()
}
