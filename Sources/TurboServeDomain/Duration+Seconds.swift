extension Duration {
    /// The duration as floating-point seconds (every layer's one conversion: the core, the store, the API).
    public var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) * 1e-18
    }
}
