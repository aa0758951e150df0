import ArgumentParser

extension TurboServeCommand {
    /// Every subcommand, in the order `--help` lists them. Add new ones here.
    static let registered: [any ParsableCommand.Type] = [
        ServeCommand.self,
        APICommand.self,
        WorkerCommand.self,
        MigrateCommand.self,
        ConfigCommand.self,
        GenerateCommand.self,
        ModelsCommand.self,
        EngineBenchCommand.self,
        BenchCommand.self,
    ]
}
