import Testing
@testable import TurboServeDomain

struct ImageAspectSizeTests {
    @Test func aWideImageKeepsItsShapeAtTheRequestedArea() {
        #expect(FrameSize.following(image: FrameSize(width: 1024, height: 576), area: 64 * 64) == FrameSize(width: 80, height: 48))
        #expect(FrameSize.following(image: FrameSize(width: 576, height: 1024), area: 64 * 64) == FrameSize(width: 48, height: 80))
        #expect(FrameSize.following(image: FrameSize(width: 500, height: 500), area: 64 * 64) == FrameSize(width: 64, height: 64))
    }

    @Test func sidesAreMultiplesOf16AndNeverBelow16() {
        let panorama = FrameSize.following(image: FrameSize(width: 4000, height: 100), area: 64 * 64)
        #expect(panorama.height == 16 && panorama.width % 16 == 0 && panorama.width > 64)
    }

    @Test func imageToVideoFollowsTheImageUnlessTheRequestFixesASize() throws {
        let validator = JobValidator()
        func job(_ spec: JobSpec) throws -> ValidatedJob { try validator.validate(spec, randomSeed: { 1 }) }
        let image = FrameSize(width: 1024, height: 576)
        let byDefault = try job(JobSpec(prompt: "waves", model: "tiny-i2v", imagePath: "/x.png")).fitted(toImage: image)
        #expect(byDefault.adaptiveResolution && (byDefault.width, byDefault.height) == (80, 48))
        for fixed in [JobSpec(prompt: "waves", model: "tiny-i2v", imagePath: "/x.png", size: "64x64"),
                      JobSpec(prompt: "waves", model: "tiny-i2v", imagePath: "/x.png", adaptiveResolution: false)] {
            let job = try job(fixed).fitted(toImage: image)
            #expect(!job.adaptiveResolution && (job.width, job.height) == (64, 64))
        }
        let textToVideo = try job(JobSpec(prompt: "fox", model: "tiny-t2v"))
        #expect(!textToVideo.adaptiveResolution)
    }
}
