import Testing
@testable import TurboServeDomain

struct JobStateTests {
    @Test func happyPathIsAllowed() {
        let path: [JobState] = [.queued, .admitted, .denoising(completed: 1, total: 2), .denoising(completed: 2, total: 2), .decoding, .muxing, .succeeded]
        for (a, b) in zip(path, path.dropFirst()) { #expect(a.canTransition(to: b), "\(a) → \(b)") }
    }

    @Test func stepCountersAdvanceByOne() {
        #expect(!JobState.denoising(completed: 1, total: 4).canTransition(to: .denoising(completed: 3, total: 4)))
        #expect(!JobState.denoising(completed: 2, total: 4).canTransition(to: .decoding))
        #expect(!JobState.admitted.canTransition(to: .denoising(completed: 2, total: 4)))
    }

    @Test func terminalStatesAreFinal() {
        for terminal in [JobState.succeeded, .failed, .cancelled] {
            for next in JobState.Phase.allCases { #expect(!terminal.phase.allowedNext.contains(next)) }
        }
    }

    @Test func everyNonTerminalStateCanBeCancelledOrFailed() {
        for phase in JobState.Phase.allCases where !phase.isTerminal {
            #expect(phase.allowedNext.contains(.cancelled) && phase.allowedNext.contains(.failed))
        }
    }

    @Test func apiStatusFollowsOpenAIVocabulary() {
        #expect(Set(JobState.Phase.allCases.map(\.apiStatus)) == ["queued", "in_progress", "completed", "failed"])
    }
}
