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

/// Numbers a hostile client sends, in every encoding the API reads: each numeric field at ±1e19, ±1e300, NaN and
/// ±Infinity as a JSON number (the literal tokens where JSON has none), a JSON string and a multipart field, on
/// `/v1/videos` and `/v1/videos/sync`. Each answer is 400 naming the field, and nothing is stored.
struct HostileInputTests {
    let store = InMemoryJobStore()
    /// The artifact root of this test alone.
    let scratch: ScratchFolder
    init() throws { scratch = try ScratchFolder("turboserve-hostile") }

    static let numericFields = ["seconds", "steps", "num_inference_steps", "seed", "width", "height", "num_frames", "fps", "sigma_max", "boundary", "deadline_seconds"]
    /// JSON text of each value as a number token (`NaN`/`Infinity` are not JSON: the tokens some encoders emit).
    static let values = ["1e19", "-1e19", "1e300", "-1e300", "NaN", "Infinity", "-Infinity"]

    func app() -> some ApplicationProtocol {
        var limits = VideoAPI.Limits()
        limits.syncTimeout = .milliseconds(10)
        let api = VideoAPI(store: store, artifacts: DirectoryArtifactStore(directory: scratch.url), limits: limits)
        return Application(router: HTTPApplication.buildRouter(api: api))
    }

    /// The three bodies of `field = value`: JSON number token, JSON string, multipart field.
    static func bodies(field: String, value: String) -> [(label: String, contentType: String, body: ByteBuffer)] {
        let form = Multipart(fields: ["prompt": "p", field: value], file: nil)
        return [
            ("json number", "application/json", ByteBuffer(string: #"{"prompt": "p", "\#(field)": \#(value)}"#)),
            ("json string", "application/json", ByteBuffer(string: #"{"prompt": "p", "\#(field)": "\#(value)"}"#)),
            ("multipart", form.contentType, form.body),
        ]
    }

    @Test(arguments: ["/v1/videos", "/v1/videos/sync"])
    func everyNumericFieldAtEveryExtremeIs400NamingIt(uri: String) async throws {
        try await app().test(.router) { client in
            for field in Self.numericFields {
                for value in Self.values {
                    for (label, contentType, body) in Self.bodies(field: field, value: value) {
                        try await client.execute(uri: uri, method: .post, headers: [.contentType: contentType], body: body) { (response: TestResponse) throws in
                            #expect(response.status == .badRequest, "\(uri) \(field)=\(value) as \(label)")
                            let error = try response.apiError()
                            #expect(error["param"] as? String == field, "\(uri) \(field)=\(value) as \(label): \(error)")
                            #expect(error["type"] as? String == "invalid_request_error")
                        }
                    }
                }
            }
        }
        #expect(try await store.countByPhase().isEmpty)
    }

    @Test(arguments: ["1e19", "-1e19", "1e300", "NaN", "Infinity", "-5", "0", "abc"])
    func anExtremeListLimitIs400NamingIt(value: String) async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: "/v1/videos?limit=\(value)", method: .get) { (response: TestResponse) throws in
                #expect(response.status == .badRequest)
                #expect(try response.apiError()["param"] as? String == "limit")
            }
        }
    }

    @Test func aValueOneBelowTheRangeEdgeStillWorks() async throws {
        // 1e17 used to pass and 6e17 to trap: both are now plain range errors, and an ordinary value (the model's longest clip) still works.
        try await app().test(.router) { client in
            for seconds in ["1e17", "6e17"] {
                try await client.execute(uri: "/v1/videos", method: .post, headers: SyncVideoTests.json, body: ByteBuffer(string: #"{"prompt": "p", "seconds": \#(seconds)}"#)) { (response: TestResponse) throws in
                    #expect(response.status == .badRequest)
                    #expect(try response.apiError()["param"] as? String == "seconds")
                }
            }
            try await client.execute(uri: "/v1/videos", method: .post, headers: SyncVideoTests.json, body: ByteBuffer(string: #"{"prompt": "p", "seconds": 2}"#)) { #expect($0.status == .ok) }
        }
    }

    @Test func nulAndInvalidUTF8AreRefusedNamingTheField() async throws {
        let invalid: [UInt8] = Array(#"{"prompt": "a "#.utf8) + [0xC3, 0x28, 0xFF] + Array(#"", "steps": 1}"#.utf8)
        let form: [UInt8] = Array("--b\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\n".utf8) + [0x66, 0xFF, 0xFE] + Array("\r\n--b--\r\n".utf8)
        let cases: [(String, String, ByteBuffer, String)] = [
            ("json NUL in prompt", "application/json", ByteBuffer(string: #"{"prompt": "a\u0000b"}"#), "prompt"),
            ("json NUL in negative_prompt", "application/json", ByteBuffer(string: #"{"prompt": "a", "negative_prompt": "x\u0000"}"#), "negative_prompt"),
            ("json invalid UTF-8", "application/json", ByteBuffer(bytes: invalid), "prompt"),
            ("multipart invalid UTF-8", "multipart/form-data; boundary=b", ByteBuffer(bytes: form), "prompt"),
            ("multipart NUL", Multipart(fields: ["prompt": "a\u{0}b"], file: nil).contentType, Multipart(fields: ["prompt": "a\u{0}b"], file: nil).body, "prompt"),
        ]
        try await app().test(.router) { client in
            for (label, contentType, body, field) in cases {
                try await client.execute(uri: "/v1/videos", method: .post, headers: [.contentType: contentType], body: body) { (response: TestResponse) throws in
                    #expect(response.status == .badRequest, "\(label)")
                    #expect(try response.apiError()["param"] as? String == field, "\(label)")
                }
            }
        }
        #expect(try await store.countByPhase().isEmpty)
    }

    @Test func aHundredKilobytePromptIs400NamingPromptAndIsNotEchoed() async throws {
        let prompt = String(repeating: "é", count: 50_000)
        let combining = "e" + String(repeating: "\u{301}", count: 50_000)
        try await app().test(.router) { client in
            for text in [prompt, combining] {
                try await client.execute(uri: "/v1/videos", method: .post, headers: SyncVideoTests.json, body: ByteBuffer(string: #"{"prompt": "\#(text)"}"#)) { (response: TestResponse) throws in
                    #expect(response.status == .badRequest)
                    #expect(try response.apiError()["param"] as? String == "prompt")
                    #expect(response.body.readableBytes < 1_000)
                }
            }
        }
    }

    @Test func aHugeUnknownValueIsQuotedShortInTheError() async throws {
        let model = String(repeating: "m", count: 100_000)
        try await app().test(.router) { client in
            try await client.execute(uri: "/v1/videos", method: .post, headers: SyncVideoTests.json, body: ByteBuffer(string: #"{"prompt": "p", "model": "\#(model)"}"#)) { (response: TestResponse) throws in
                #expect(response.status == .badRequest)
                #expect(try response.apiError()["param"] as? String == "model")
                #expect(response.body.readableBytes < 1_000)
            }
        }
    }
}
