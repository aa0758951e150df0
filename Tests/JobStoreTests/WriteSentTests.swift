@testable import JobStorePostgres
import Testing

/// The first of send and abandon decides: a write abandoned first is never sent, one sent first is reported as
/// possibly applied.
struct WriteSentTests {
    @Test func aWriteSentBeforeItsDeadlineIsReportedAsPossiblyApplied() {
        let write = WriteSent()
        #expect(write.send())
        #expect(write.abandon())
    }

    @Test func aWriteAbandonedFirstIsNeverSent() {
        let write = WriteSent()
        #expect(!write.abandon())
        #expect(!write.send())
        #expect(!write.abandon())
    }
}
