import Testing
@testable import TurboServeDomain

/// Every rejection names its field and the allowed values; every default comes from the model's descriptor.
struct JobValidatorTests {
    let validator = JobValidator()
    func validate(_ spec: JobSpec) throws(TurboServeError) -> ValidatedJob {
        try validator.validate(spec, randomSeed: { 1234 })
    }
    func rejection(_ spec: JobSpec) -> TurboServeError? {
        do { _ = try validate(spec); return nil } catch { return error }
    }

    @Test func defaultsComeFromTheModel() throws {
        let job = try validate(JobSpec(prompt: "  a red fox  ", model: "wan2.1-t2v-1.3b"))
        #expect(job.prompt == "a red fox")
        #expect((job.width, job.height, job.frames, job.fps) == (832, 480, 81, 16))
        #expect(job.steps == 4 && job.sampler == .sde && job.sigmaMax == 80 && job.seed == 1234)
        #expect(job.priority == .standard && job.attention == .original)
        #expect(job.shapeKey.tokens == 32_760)
    }

    @Test func i2vDefaultsAndExpertPlan() throws {
        let job = try validate(JobSpec(prompt: "waves", model: "wan2.2-i2v-a14b", imagePath: "/tmp/x.png"))
        #expect((job.width, job.height) == (1280, 720))
        #expect(job.sigmaMax == 200)
        #expect(job.expertPlan == [.highNoise, .highNoise, .lowNoise, .lowNoise])
        #expect(job.shapeKey.tokens == 75_600)
    }

    @Test func sizeCanComeFromSizeOrWidthHeightOrAspectRatio() throws {
        #expect(try validate(JobSpec(prompt: "p", model: "wan2.1-t2v-14b", size: "1280x720")).height == 720)
        #expect(try validate(JobSpec(prompt: "p", model: "tiny-t2v", width: 112, height: 64)).width == 112)
        let portrait = try validate(JobSpec(prompt: "p", model: "wan2.1-t2v-1.3b", aspectRatio: "9:16"))
        #expect((portrait.width, portrait.height) == (480, 832))
    }

    @Test func secondsBecomeFourKPlusOneFramesAndLongerThanTheModelAllowsIsAnError() throws {
        #expect(try validate(JobSpec(prompt: "p", model: "wan2.1-t2v-1.3b", seconds: 2)).frames == 33)
        #expect(try validate(JobSpec(prompt: "p", model: "wan2.1-t2v-1.3b", seconds: 5)).frames == 81)
        let tooLong = rejection(JobSpec(prompt: "p", model: "wan2.1-t2v-1.3b", seconds: 12))
        #expect(tooLong?.field == "seconds" && tooLong?.code == .invalidValue)
        #expect(tooLong?.message.contains("at most 5 for wan2.1-t2v-1.3b") == true)
    }

    @Test func oneFrameIsAStillEveryModelServes() throws {
        #expect(try validate(JobSpec(prompt: "p", model: "tiny-t2v", frames: 1)).frames == 1)
        #expect(try validate(JobSpec(prompt: "p", model: "wan2.2-i2v-a14b", imagePath: "/x.png", frames: 1)).frames == 1)
    }

    @Test func anImageWithoutAModelRunsTheDefaultImageModelOfTheSameKind() throws {
        #expect(try validate(JobSpec(prompt: "p", imagePath: "/x.png")).model == "tiny-i2v")
        #expect(try validate(JobSpec(prompt: "p")).model == "tiny-t2v")
        let real = JobValidator(defaultModel: "wan2.1-t2v-1.3b")
        #expect(try real.validate(JobSpec(prompt: "p", imagePath: "/x.png"), randomSeed: { 1 }).model == "wan2.2-i2v-a14b")
        let imageDefault = JobValidator(defaultModel: "tiny-i2v")
        #expect(imageDefault.defaultImageModel == "tiny-i2v")
    }

    @Test(arguments: [
        (JobSpec(prompt: "p", model: "tiny-t2v", size: "64x64", aspectRatio: "16:9"), "aspect_ratio"),
        (JobSpec(prompt: "p", model: "tiny-t2v", size: "64x64", resolution: "tiny", aspectRatio: "4:3"), "aspect_ratio"),
        (JobSpec(prompt: "p", model: "tiny-t2v", width: 112, height: 64, aspectRatio: "1:1"), "aspect_ratio"),
        (JobSpec(prompt: "p", model: "tiny-t2v", size: "64x64", width: 112, height: 64), "width"),
        (JobSpec(prompt: "p", model: "tiny-t2v", frames: 9, seconds: 1), "seconds"),
    ])
    func fieldsThatDisagreeAreAConflictNamingTheSecond(spec: JobSpec, field: String) {
        let conflict = rejection(spec)
        #expect(conflict?.code == .conflictingFields && conflict?.field == field)
    }

    @Test func fieldsThatAgreeAreAccepted() throws {
        let job = try validate(JobSpec(prompt: "p", model: "tiny-t2v", size: "112x64", width: 112, height: 64, aspectRatio: "16:9", frames: 17, seconds: 1))
        #expect((job.width, job.height, job.frames) == (112, 64, 17))
    }

    @Test(arguments: [
        (JobSpec(prompt: "p", model: "sora-2"), "model", TurboServeError.Code.unknownModel),
        (JobSpec(prompt: "   "), "prompt", .missingField),
        (JobSpec(prompt: "p", steps: 0), "steps", .invalidValue),
        (JobSpec(prompt: "p", steps: 5), "steps", .invalidValue),
        (JobSpec(prompt: "p", frames: 16), "num_frames", .invalidValue),
        (JobSpec(prompt: "p", frames: 101), "num_frames", .invalidValue),
        (JobSpec(prompt: "p", size: "1920x1080"), "size", .invalidValue),
        (JobSpec(prompt: "p", size: "big"), "size", .invalidValue),
        (JobSpec(prompt: "p", width: 64), "height", .missingField),
        (JobSpec(prompt: "p", resolution: "4k"), "resolution", .invalidValue),
        (JobSpec(prompt: "p", aspectRatio: "21:9"), "aspect_ratio", .invalidValue),
        (JobSpec(prompt: "p", seed: -1), "seed", .invalidValue),
        (JobSpec(prompt: "p", sampler: "euler"), "sampler", .invalidValue),
        (JobSpec(prompt: "p", sigmaMax: 0), "sigma_max", .invalidValue),
        (JobSpec(prompt: "p", boundary: 0.9), "boundary", .unsupportedForModel),
        (JobSpec(prompt: "p", attention: "sagesla"), "attention", .unsupportedForModel),
        (JobSpec(prompt: "p", attention: "flash"), "attention", .invalidValue),
        (JobSpec(prompt: "p", priority: "urgent"), "priority", .invalidValue),
        (JobSpec(prompt: "p", deadlineSeconds: -3), "deadline_seconds", .invalidValue),
        (JobSpec(prompt: "p", model: "tiny-i2v"), "input_reference", .missingField),
        (JobSpec(prompt: "p", model: "tiny-t2v", imagePath: "/tmp/a.png"), "input_reference", .unsupportedForModel),
    ])
    func rejectionsNameTheField(spec: JobSpec, field: String, code: TurboServeError.Code) {
        let error = rejection(spec)
        #expect(error?.code == code)
        #expect(error?.field == field)
        #expect(error?.message.contains(field) == true || field == "input_reference" || field == "model")
    }

    @Test func messagesListTheAllowedValues() {
        #expect(rejection(JobSpec(prompt: "p", sampler: "euler"))?.message.contains("sde, ode") == true)
        #expect(rejection(JobSpec(prompt: "p", model: "nope"))?.message.contains("tiny-t2v") == true)
        #expect(rejection(JobSpec(prompt: "p", size: "1x1"))?.message.contains("64x64") == true)
    }

    @Test func randomSeedIsDrawnOnlyWhenAbsent() throws {
        var calls = 0
        _ = try validator.validate(JobSpec(prompt: "p", seed: 7), randomSeed: { calls += 1; return 1 })
        #expect(calls == 0)
        _ = try validator.validate(JobSpec(prompt: "p"), randomSeed: { calls += 1; return 1 })
        #expect(calls == 1)
    }
}
