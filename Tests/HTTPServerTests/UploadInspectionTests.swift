import Artifacts
import Foundation
import HTTPServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JobStore
import Testing
import TurboServeDomain
import TurboServeTestSupport

/// Uploads are judged by their own header before anything is stored: not an image, truncated, or declaring more
/// pixels than `limits.max_image_pixels` (a decompression bomb) is 400 naming `input_reference`, with no path in
/// the message and no file left behind.
struct UploadInspectionTests {
    let store = InMemoryJobStore()
    let scratch: ScratchFolder
    var uploads: URL { scratch.url }
    init() throws { scratch = try ScratchFolder("turboserve-inspect") }

    func app() -> some ApplicationProtocol {
        var limits = VideoAPI.Limits()
        limits.maxImagePixels = 4096 * 4096
        let api = VideoAPI(store: store, artifacts: DirectoryArtifactStore(directory: uploads), limits: limits)
        return Application(router: HTTPApplication.buildRouter(api: api))
    }

    static let refused: [(String, [UInt8])] = [
        ("text", Array("plain text, not an image".utf8)),
        ("magic only", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 0, count: 32)),
        ("truncated PNG", TestImages.truncatedPNG),
        ("PNG bomb 30000x30000", TestImages.png(width: 30_000, height: 30_000)),
        ("PNG 4097x4096 (over the pixel budget)", TestImages.png(width: 4097, height: 4096)),
        ("PNG 2^32-1 wide", TestImages.png(width: .max, height: .max)),
        ("PNG 0x0", TestImages.png(width: 0, height: 0)),
        ("JPEG bomb 30000x30000", TestImages.jpeg(width: 30_000, height: 30_000)),
        ("truncated JPEG", Array(TestImages.jpeg(width: 64, height: 64).dropLast(2))),
        ("JPEG without a frame", [0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0xFF, 0xD9]),
        ("WebP truncated", Array("RIFF".utf8) + [0xFF, 0xFF, 0, 0] + Array("WEBPVP8X".utf8) + Array(repeating: 0, count: 18)),
    ]

    @Test func badAndBombImagesAre400NamingInputReference() async throws {
        try await app().test(.router) { client in
            for (label, bytes) in Self.refused {
                let form = Multipart(fields: ["prompt": "p", "model": "tiny-i2v"], file: ("input_reference", "a.png", "image/png", bytes))
                try await client.execute(uri: "/v1/videos", method: .post, headers: [.contentType: form.contentType], body: form.body) { (response: TestResponse) throws in
                    #expect(response.status == .badRequest, "\(label)")
                    let error = try response.apiError()
                    #expect(error["param"] as? String == "input_reference", "\(label)")
                    let message = error["message"] as? String ?? ""
                    #expect(!message.contains("/") || message.contains("×"), "\(label): \(message)")
                    #expect(!message.contains(uploads.path), "\(label)")
                }
            }
        }
        #expect(try await store.countByPhase().isEmpty)
        #expect((try? FileManager.default.contentsOfDirectory(atPath: uploads.path))?.isEmpty ?? true)
    }

    @Test func completeImagesWithinTheBudgetAreAccepted() async throws {
        try await app().test(.router) { client in
            for bytes in [TestImages.tinyPNG, TestImages.png(width: 4096, height: 4096), TestImages.jpeg(width: 640, height: 480)] {
                let form = Multipart(fields: ["prompt": "p", "model": "tiny-i2v"], file: ("input_reference", "a.png", "image/png", bytes))
                try await client.execute(uri: "/v1/videos", method: .post, headers: [.contentType: form.contentType], body: form.body) { (response: TestResponse) throws in
                    #expect(response.status == .ok)
                }
            }
        }
        #expect(try await store.countByPhase() == [.queued: 3])
    }
}
