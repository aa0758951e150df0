import TurboServeDomain

/// Jobs that can share one batched denoise call: their next step runs on the same expert and they have the same
/// shape key (model, size, frames). Jobs of one group may be at different steps; the engine takes a per-sample
/// timestep.
public struct StepGroup: Hashable, Sendable, CustomStringConvertible {
    public let expert: ModelKey
    public let shape: ShapeKey

    public init(expert: ModelKey, shape: ShapeKey) {
        self.expert = expert
        self.shape = shape
    }

    public var description: String { "\(expert)@\(shape.width)x\(shape.height)x\(shape.frames)" }
}
