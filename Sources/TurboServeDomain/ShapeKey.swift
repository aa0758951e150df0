/// Jobs with equal shape keys can share one batched denoise call (when they also need the same expert):
/// same model, same latent grid. The latent grid is `T = 1 + (frames − 1)/4` by `H/8 × W/8`; the DiT sees
/// `T · (H/16) · (W/16)` tokens.
public struct ShapeKey: Hashable, Sendable, Codable, CustomStringConvertible {
    public let model: String
    public let width: Int
    public let height: Int
    public let frames: Int

    public init(model: String, width: Int, height: Int, frames: Int) {
        self.model = model
        self.width = width
        self.height = height
        self.frames = frames
    }

    public var latentFrames: Int { 1 + (frames - 1) / 4 }
    public var tokens: Int { latentFrames * (height / 16) * (width / 16) }
    public var description: String { "\(model)@\(width)x\(height)x\(frames)" }
}
