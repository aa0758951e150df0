import TurboServeDomain

extension ClaimOrder.Candidate {
    /// A stored job as the claim rule sees it.
    public init(_ record: JobRecord) {
        self.init(id: record.id, tenant: record.tenant, priorityRank: record.spec.priority.rank, sequence: record.sequence,
                  model: record.spec.model, createdAt: record.createdAt)
    }
}
