import Testing
import TurboServeDomain

/// Values that used to trap or slip through: huge `seconds` (Double → Int), prompts bounded only in graphemes.
struct JobValidatorHostileTests {
    let validator = JobValidator(maxPromptBytes: 16_384)

    func error(_ spec: JobSpec) -> TurboServeError? {
        do { _ = try validator.validate(spec, randomSeed: { 1 }); return nil } catch { return error }
    }

    @Test(arguments: [1e19, -1e19, 1e300, -1e300, 6e17, 1e17, .nan, .infinity, -.infinity, 0, 600.5])
    func anyOutOfRangeSecondsIsAnErrorNamingSeconds(seconds: Double) {
        let failure = error(JobSpec(prompt: "p", seconds: seconds))
        #expect(failure?.field == "seconds" && failure?.code == .invalidValue)
    }

    @Test(arguments: [Int.max, Int.min, -1, 0, 2, 6])
    func anyOutOfRangeFrameCountIsAnErrorNamingNumFrames(frames: Int) {
        #expect(error(JobSpec(prompt: "p", frames: frames))?.field == "num_frames")
    }

    @Test func extremeIntegersAreErrorsNamingTheirField() {
        #expect(error(JobSpec(prompt: "p", steps: .max))?.field == "steps")
        #expect(error(JobSpec(prompt: "p", steps: .min))?.field == "steps")
        #expect(error(JobSpec(prompt: "p", fps: .min))?.field == "fps")
        #expect(error(JobSpec(prompt: "p", seed: .min))?.field == "seed")
        #expect(error(JobSpec(prompt: "p", seed: .max))?.field == "seed")
        #expect(error(JobSpec(prompt: "p", width: .max, height: .min))?.field == "width")
        #expect(error(JobSpec(prompt: "p", sigmaMax: 1e300))?.field == "sigma_max")
        #expect(error(JobSpec(prompt: "p", deadlineSeconds: -.infinity))?.field == "deadline_seconds")
    }

    @Test func promptsAreBoundedInBytesAndScalarsNotGraphemes() {
        // One grapheme of 16 MB used to pass a 2000-character limit.
        let oneGrapheme = "e" + String(repeating: "\u{301}", count: 20_000)
        #expect(oneGrapheme.count == 1)
        #expect(error(JobSpec(prompt: oneGrapheme))?.field == "prompt")
        let hundredKB = String(repeating: "a", count: 100_000)
        #expect(error(JobSpec(prompt: hundredKB))?.message.contains("bytes") == true)
        #expect(error(JobSpec(prompt: String(repeating: "あ", count: 1_999))) == nil)
        #expect(error(JobSpec(prompt: "p", negativePrompt: hundredKB))?.field == "negative_prompt")
        #expect(error(JobSpec(prompt: "a\u{0}b"))?.field == "prompt")
    }

    @Test func errorMessagesQuoteAtMost64CharactersOfWhatWasSent() {
        let huge = String(repeating: "x", count: 100_000)
        for spec in [JobSpec(prompt: "p", model: huge), JobSpec(prompt: "p", size: huge), JobSpec(prompt: "p", resolution: huge), JobSpec(prompt: "p", sampler: huge)] {
            let message = error(spec)?.message ?? ""
            #expect(!message.isEmpty && message.count < 400)
        }
    }
}
