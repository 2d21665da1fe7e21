import FuzzSupport
import Installer

/// Reads the input as today's `config-file` (`KEY="value"` lines and comments, then a YAML tail from
/// `services:` on), as install-os reads it from the config partition and as text; then merges the settings over
/// the defaults and checks them. Warnings and errors are rendered, as install-os prints them.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = FuzzInput.write(data, size, as: "config-file")
    do throws(InstallerConfigError) {
        if let file = try LegacyConfigFile.read(path, displayName: "config-file") { check(file) }
    } catch {
        _ = "\(error)"
    }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do throws(InstallerConfigError) {
        check(try LegacyConfigFile(text: text, path: "config-file"))
    } catch {
        _ = "\(error)"
    }
    return 0
}

func check(_ legacy: LegacyConfigFile) {
    _ = legacy.warnings.map(\.description)
    let config = InstallerConfig(files: [legacy.configFile], commandLine: nil)
    do throws(InstallerConfigError) {
        try config.checkComplete()
    } catch {
        _ = "\(error)"
    }
}
