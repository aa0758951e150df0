import Hummingbird
import TurboServeDomain

/// The one place where a `TurboServeError` becomes an HTTP response: status by code, and an OpenAI-shaped body
/// `{"error": {"message", "type", "param", "code"}}` so the official SDKs raise their usual exception types.
/// Messages pass through `PathRedaction`, so no answer ever names a file on the server.
public struct APIError: HTTPResponseError {
    public let error: TurboServeError
    /// `Retry-After` in seconds; nil: 2 s for the capacity codes, none otherwise.
    public var retryAfterSeconds: Int?
    /// Extra headers (`Allow` on a 405).
    var headers: HTTPFields = [:]

    public init(_ error: TurboServeError, retryAfterSeconds: Int? = nil) {
        self.error = error
        self.retryAfterSeconds = retryAfterSeconds
    }

    public var status: HTTPResponse.Status {
        switch error.code {
        case .invalidValue, .missingField, .unknownModel, .unsupportedForModel, .malformedRequest, .unknownField, .conflictingFields: .badRequest
        case .unauthorized, .invalidAPIKey: .unauthorized
        case .forbidden: .forbidden
        case .notFound, .videoExpired: .notFound
        case .methodNotAllowed: .methodNotAllowed
        case .requestTimeout: .requestTimeout
        case .conflict, .cancelled: .conflict
        case .payloadTooLarge: .contentTooLarge
        case .queueFull, .tenantQueueFull, .rateLimited: .tooManyRequests
        case .notReady, .diskFull, .serverBusy: .serviceUnavailable
        case .waitTimeout: .gatewayTimeout
        case .engineOutOfMemory, .engineCrashed, .engineRestarted, .leaseExpired, .jobNotHeld, .preempted, .engineError, .encoderUnavailable, .encodingFailed, .modelMissing, .internalError: .internalServerError
        }
    }

    /// OpenAI's error `type` vocabulary.
    var type: String {
        switch status.code {
        case 401: "authentication_error"
        case 403: "permission_error"
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

            /// `param` is always present (`null` when the error concerns no field), as in OpenAI's answers.
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(message, forKey: .message)
                try container.encode(type, forKey: .type)
                try container.encode(param, forKey: .param)
                try container.encode(code, forKey: .code)
            }

            enum CodingKeys: String, CodingKey { case message, type, param, code }
        }
        let error: Detail
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = Body(error: .init(message: PathRedaction.redact(error.message), type: type, param: error.field, code: error.code.rawValue))
        var response = try JSONCoding.encoder.encode(body, from: request, context: context)
        response.status = status
        if let retryAfterSeconds {
            response.headers[.retryAfter] = String(retryAfterSeconds)
        } else if [.queueFull, .tenantQueueFull, .notReady, .diskFull, .serverBusy].contains(error.code) {
            response.headers[.retryAfter] = "2"
        }
        if error.code == .invalidAPIKey { response.headers[.wwwAuthenticate] = "Bearer" }
        if error.code == .requestTimeout { response.headers[.connection] = "close" }
        response.headers.append(contentsOf: headers)
        return response
    }
}
