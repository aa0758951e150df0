import ArgumentParser

/// The `turboserve` command line. Each subcommand lives in its own file as `extension TurboServeCommand`.
@main
struct TurboServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "turboserve",
        abstract: "A serving system for fast video diffusion (TurboDiffusion / Wan).",
        subcommands: TurboServeCommand.registered
    )
}
