import ArgumentParser

extension TurboServeCommand {
    /// Every subcommand, in the order `--help` lists them. Add new ones here.
    static let registered: [any ParsableCommand.Type] = [
        ServeCommand.self,
        ConfigCommand.self,
        GenerateCommand.self,
        ModelsCommand.self,
        EngineBenchCommand.self,
        BenchCommand.self,
    ]
}
