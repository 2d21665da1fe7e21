import FuzzSupport
import Installer

/// Reads the input as `installer.yaml`: once as install-os reads the file (BOM, UTF-8 and size checks, then the
/// schema with line numbers), once as `emts-iso build --installer-config` checks it; then merges it over the
/// defaults and checks the merged configuration. Every error is rendered, as the CLIs print it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = FuzzInput.write(data, size, as: "installer.yaml")
    do throws(InstallerConfigError) {
        if let file = try InstallerConfigFile.read(path, displayName: "installer.yaml") { check(file) }
    } catch {
        _ = "\(error)"
    }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do throws(InstallerConfigError) {
        check(try InstallerConfigFile(yaml: text, path: "installer.yaml"))
    } catch {
        _ = "\(error)"
    }
    return 0
}

func check(_ file: InstallerConfigFile) {
    let config = InstallerConfig(files: [file], commandLine: nil)
    do throws(InstallerConfigError) {
        try config.checkComplete()
    } catch {
        _ = "\(error)"
    }
}
