/// A store's answer to the readiness check: healthy, or why not as a clause an operator can act on ("refused the
/// session: sorry, too many clients already (SQLSTATE 53300)"). `/readyz` puts the clause after "the job store
/// (PostgreSQL)"; each backend words its own faults.
public enum StoreHealth: Sendable, Equatable {
    case healthy
    /// Not answering; `problem` says what was seen, without the store's name and without a final period.
    case unhealthy(_ problem: String)
}
