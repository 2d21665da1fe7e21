/// Why a boot test could not run (as opposed to a boot that ran and failed, which is a `BootResult`).
public enum BootTestError: Error, CustomStringConvertible, Sendable {
    /// A program or file the harness needs is not installed; the text says how to get it.
    case missingTool(String)
    /// An input file does not exist or cannot be read.
    case missingInput(String)
    /// The machine description is inconsistent.
    case invalidSpec(String)
    /// QEMU could not be started or controlled.
    case qemu(String)

    public var description: String {
        switch self {
        case .missingTool(let text): "missing: \(text)"
        case .missingInput(let text): "missing input: \(text)"
        case .invalidSpec(let text): "invalid machine: \(text)"
        case .qemu(let text): "qemu: \(text)"
        }
    }
}
