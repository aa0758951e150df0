import Hummingbird
import TurboServeDomain

/// The one place where a `TurboServeError` becomes an HTTP response: status by code, and an OpenAI-shaped body
/// `{"error": {"message", "type", "param", "code"}}` so the official SDKs raise their usual exception types.
public struct APIError: HTTPResponseError {
    public let error: TurboServeError

    public init(_ error: TurboServeError) { self.error = error }

    public var status: HTTPResponse.Status {
        switch error.code {
        case .invalidValue, .missingField, .unknownModel, .unsupportedForModel, .malformedRequest: .badRequest
        case .unauthorized, .invalidAPIKey: .unauthorized
        case .notFound, .videoExpired: .notFound
        case .conflict, .cancelled: .conflict
        case .payloadTooLarge: .contentTooLarge
        case .queueFull: .tooManyRequests
        case .notReady, .diskFull: .serviceUnavailable
        case .waitTimeout: .gatewayTimeout
        case .engineOutOfMemory, .engineCrashed, .engineRestarted, .leaseExpired, .jobNotHeld, .preempted, .engineError, .encoderUnavailable, .encodingFailed, .modelMissing, .internalError: .internalServerError
        }
    }

    /// OpenAI's error `type` vocabulary.
    var type: String {
        switch status.code {
        case 401: "authentication_error"
        case 404: "not_found_error"
        case 429: "rate_limit_error"
        case 500...: "server_error"
        default: "invalid_request_error"
        }
    }

    struct Body: Encodable {
        struct Detail: Encodable {
            let message: String
            let type: String
            let param: String?
            let code: String
        }
        let error: Detail
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = Body(error: .init(message: error.message, type: type, param: error.field, code: error.code.rawValue))
        var response = try JSONCoding.encoder.encode(body, from: request, context: context)
        response.status = status
        if [.queueFull, .notReady, .diskFull].contains(error.code) { response.headers[.retryAfter] = "2" }
        if error.code == .invalidAPIKey { response.headers[.wwwAuthenticate] = "Bearer" }
        return response
    }
}
