/// Why an edit of the µOS rootfs cannot be planned. Every case names the entry, path or unit at fault.
public enum EditPlanError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What makes an archive or requested path unsafe.
    public enum PathProblem: String, Sendable, Equatable {
        case empty, absolute, parentComponent, emptyComponent, nul
    }

    /// An archive entry path or requested path is empty, absolute, has a `..` or empty component, or a NUL byte.
    case unsafePath(entry: String, problem: PathProblem)
    /// A hard link entry names an unsafe target.
    case unsafeHardlink(entry: String, target: String, problem: PathProblem)
    /// Following `link` (whose target is `target`) would leave the root.
    case escapesRoot(entry: String, link: String, target: String)
    /// More than `RootPath.symlinkHopLimit` symlinks on the way (a loop, most likely).
    case symlinkLoop(entry: String, link: String)
    /// A path goes through `component`, which exists and is neither a directory nor a symlink.
    case notADirectory(entry: String, component: String)
    /// The requested change collides with what is (or will be) at `path`.
    case conflict(path: String, message: String)
    /// Replacing `path` would break the hard links other entries make to it.
    case replacesHardlinkedFile(path: String)
    /// A symlink the request adds has an empty target or one with a NUL byte.
    case invalidSymlinkTarget(path: String, target: String)
    /// Not a systemd unit name.
    case invalidUnitName(name: String, reason: String)
    /// A unit file that cannot be parsed.
    case unitSyntax(unit: String, line: Int, message: String)
    /// A unit to enable has no unit file in the rootfs or among the additions.
    case unitNotFound(unit: String)
    /// A unit to enable is masked by `path`.
    case unitMasked(unit: String, path: String)
    /// A unit to enable has no `[Install]` section (or one without WantedBy=, RequiredBy=, Alias=, Also=).
    case noInstallSection(unit: String)
    /// A template unit to enable has no `DefaultInstance=`, and no instance was named.
    case templateWithoutInstance(unit: String)
    /// An `[Install]` value uses a specifier this planner does not expand.
    case unsupportedSpecifier(unit: String, value: String)
    /// The scan pass did not record the text of a unit file the plan needs.
    case unitContentsUnavailable(unit: String, path: String)
    /// The same unit is both enabled and disabled.
    case enabledAndDisabled(unit: String)
    /// A host file named by the request cannot be read.
    case hostFile(path: String, message: String)

    public var description: String {
        switch self {
        case .unsafePath(let entry, let problem):
            "\(shown(entry)): unsafe path: \(problem.explanation)"
        case .unsafeHardlink(let entry, let target, let problem):
            "\(shown(entry)): unsafe hard link target \(shown(target)): \(problem.explanation)"
        case .escapesRoot(let entry, let link, let target):
            "\(shown(entry)): leaves the root through symlink \(link) -> \(target)"
        case .symlinkLoop(let entry, let link):
            "\(shown(entry)): more than \(RootPath.symlinkHopLimit) symlinks to follow (a loop at \(link)?)"
        case .notADirectory(let entry, let component):
            "\(shown(entry)): \(component) is not a directory"
        case .conflict(let path, let message):
            "\(path): \(message)"
        case .replacesHardlinkedFile(let path):
            "\(path): other entries are hard links to it; replacing it would break them"
        case .invalidSymlinkTarget(let path, let target):
            "\(path): invalid symlink target \(shown(target))"
        case .invalidUnitName(let name, let reason):
            "\(shown(name)): not a unit name: \(reason)"
        case .unitSyntax(let unit, let line, let message):
            "\(unit):\(line): \(message)"
        case .unitNotFound(let unit):
            "\(unit): no unit file in /etc/systemd/system, /usr/lib/systemd/system or /lib/systemd/system, nor among the added files"
        case .unitMasked(let unit, let path):
            "\(unit): cannot enable a masked unit (\(path) -> /dev/null)"
        case .noInstallSection(let unit):
            "\(unit): no [Install] section with WantedBy=, RequiredBy=, Alias= or Also=: nothing says what should start it"
        case .templateWithoutInstance(let unit):
            "\(unit): a template unit without DefaultInstance=; enable an instance such as \(exampleInstance(of: unit))"
        case .unsupportedSpecifier(let unit, let value):
            "\(unit): [Install] value \(shown(value)) uses a specifier other than %n %N %p %i %%"
        case .unitContentsUnavailable(let unit, let path):
            "\(unit): the scan did not record the text of \(path), so its [Install] section is unknown"
        case .enabledAndDisabled(let unit):
            "\(unit): asked to be both enabled and disabled"
        case .hostFile(let path, let message):
            "\(path): \(message)"
        }
    }
}

extension EditPlanError.PathProblem {
    var explanation: String {
        switch self {
        case .empty: "empty path"
        case .absolute: "absolute path (entries must be relative to the root)"
        case .parentComponent: "has a '..' component"
        case .emptyComponent: "has an empty component ('//')"
        case .nul: "contains a NUL byte"
        }
    }
}

/// Quotes a path for a message, making NUL and other control characters visible.
private func shown(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        if scalar.value < 0x20 || scalar.value == 0x7F {
            out += "\\u{\(String(scalar.value, radix: 16))}"
        } else {
            out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

/// `foo@.service` -> `foo@NAME.service`, for the template hint.
private func exampleInstance(of template: String) -> String {
    guard let at = template.firstIndex(of: "@") else { return template }
    return template[...at] + "NAME" + template[template.index(after: at)...]
}
