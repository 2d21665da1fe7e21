/// Disabling and enabling systemd units, as `systemctl mask`/`disable` and `enable` would inside the rootfs.
extension EditPlanDraft {
    static let maskDirectory = "etc/systemd/system"
    static let maskTarget = "/dev/null"

    // MARK: Disable

    /// Removes every enablement link of `unit` and masks it.
    ///
    /// A link counts as the unit's when its name is the unit's (any instance, for a template), when its target's
    /// name is, or when its target resolves to one of the unit's files. Links in `*.wants/` and `*.requires/` of
    /// `/etc` and `/usr/lib` are removed, and alias links directly in `/etc/systemd/system` (what `systemctl
    /// enable` made). A unit with no file at all is masked anyway, with a note: harmless, and it stays off should
    /// a later image add it.
    mutating func disable(_ unit: UnitName) throws {
        let files = view.unitFileLocations(named: unit.rawValue).filter { !$0.isMask }
        let contentPaths = Set(files.map(\.contentPath))
        for link in view.index.unitLinks where !view.removed.contains(link.path) {
            let pointsAtUnit = Self.names(RootPath.name(of: link.target), unit)
                || linkDestination(link).map(contentPaths.contains) == true
            switch link.relation {
            case .wants, .requires:
                guard Self.names(link.name, unit) || pointsAtUnit else { continue }
                try remove(link.path, reason: .enablesUnit(unit: unit.rawValue))
            case .alias:
                guard link.unitDirectory == Self.maskDirectory, link.name != unit.rawValue,
                      link.target != Self.maskTarget, pointsAtUnit else { continue }
                try remove(link.path, reason: .aliasOfUnit(unit: unit.rawValue))
            }
        }
        try mask(unit)
        let template = unit.template.flatMap { view.unitFileLocations(named: $0.rawValue).first { !$0.isMask } }
        if files.isEmpty, template == nil {
            notes.append("\(unit): not present in the rootfs; masked anyway, so it cannot start if it appears later")
        }
    }

    private mutating func mask(_ unit: UnitName) throws {
        let path = RootPath.join(Self.maskDirectory, unit.rawValue)
        let placed = try view.placement(of: path, entry: path)
        if let existing = view.node(at: placed) {
            if additions[placed] != nil {
                throw EditPlanError.conflict(path: placed, message: "added by the request, and the mask of \(unit)")
            }
            switch existing.kind {
            case .symlink where existing.symlinkTarget == Self.maskTarget:
                notes.append("\(unit): already masked")
                return
            case .directory:
                throw EditPlanError.conflict(path: placed, message: "cannot mask \(unit): a directory is there")
            default:
                try remove(placed, reason: .replacedByMask(unit: unit.rawValue))
                notes.append("\(unit): \(placed) was \(Self.describe(existing)); the mask replaces it")
            }
        }
        try add(EditPlan.Addition(path: placed, kind: .symlink, permissions: 0o777, mtime: mtime,
                                  symlinkTarget: Self.maskTarget, purpose: .mask(unit: unit.rawValue)),
                entry: path)
    }

    /// Whether a link or file `name` stands for `unit`: the same name, or an instance of `unit` as a template.
    private static func names(_ name: String, _ unit: UnitName) -> Bool {
        if name == unit.rawValue { return true }
        guard unit.isTemplate, let other = try? UnitName(validating: name) else { return false }
        return other.instance != nil && other.prefix == unit.prefix && other.suffix == unit.suffix
    }

    /// Where a link leads, all symlinks followed; `nil` if it leaves the root or loops.
    private func linkDestination(_ link: RootfsIndex.UnitLink) -> String? {
        let start = link.target.hasPrefix("/") ? link.target : RootPath.join(RootPath.parent(of: link.path), link.target)
        return try? view.resolve(start, followingFinal: true, entry: link.path)
    }

    // MARK: Enable

    /// Creates the links each unit's `[Install]` section asks for, in `/etc/systemd/system`: `WantedBy=T` makes
    /// `T.wants/U`, `RequiredBy=T` makes `T.requires/U`, `Alias=A` makes `A`, all pointing at the unit file;
    /// `Also=` units are enabled too. A template is enabled under its `DefaultInstance=`.
    mutating func enable(_ units: [UnitName], disabled: Set<UnitName>) throws {
        var queue = units
        var seen = Set<UnitName>()
        var next = 0
        while next < queue.count {
            let unit = queue[next]
            next += 1
            guard seen.insert(unit).inserted else { continue }
            if disabled.contains(unit) { throw EditPlanError.enabledAndDisabled(unit: unit.rawValue) }
            guard let location = view.locateUnitFile(unit) else { throw EditPlanError.unitNotFound(unit: unit.rawValue) }
            if location.isMask { throw EditPlanError.unitMasked(unit: unit.rawValue, path: location.path) }
            guard let section = try installSection(of: unit, in: location), !section.isEmpty else {
                throw EditPlanError.noInstallSection(unit: unit.rawValue)
            }
            let linkName: UnitName
            if unit.isTemplate {
                guard let instance = section.defaultInstance else {
                    throw EditPlanError.templateWithoutInstance(unit: unit.rawValue)
                }
                linkName = try unit.instantiated(instance)
            } else {
                linkName = unit
            }
            let target = "/" + location.path
            for (key, values, holder) in [("WantedBy", section.wantedBy, "wants"), ("RequiredBy", section.requiredBy, "requires")] {
                for value in values {
                    let dependent = try UnitName(validating: Self.expand(value, for: linkName, of: unit))
                    try link(RootPath.join(Self.maskDirectory, "\(dependent).\(holder)/\(linkName)"), to: target,
                             purpose: .enable(unit: unit.rawValue, directive: "\(key)=\(value)"))
                }
            }
            for value in section.alias {
                let alias = try UnitName(validating: Self.expand(value, for: linkName, of: unit))
                guard alias.suffix == unit.suffix else {
                    throw EditPlanError.invalidUnitName(name: alias.rawValue,
                                                        reason: "an Alias= of \(unit) must end in .\(unit.suffix)")
                }
                try link(RootPath.join(Self.maskDirectory, alias.rawValue), to: target, purpose: .alias(unit: unit.rawValue))
            }
            for value in section.also {
                let other = try UnitName(validating: Self.expand(value, for: linkName, of: unit))
                if !seen.contains(other), !queue[next...].contains(other) {
                    notes.append("\(other): enabled too (Also= of \(unit))")
                    queue.append(other)
                }
            }
        }
    }

    /// The `[Install]` section of the unit file: from the request when it adds the file, else as the scan recorded it.
    private func installSection(of unit: UnitName, in location: UnitFileLocation) throws -> UnitInstallSection? {
        if let added = additions[location.contentPath], let source = added.source {
            return try UnitInstallSection.parse(String(decoding: try source.contents(), as: UTF8.self), unit: unit.rawValue)
        }
        switch view.index.recordedInstallSection(at: location.contentPath) {
        case .success(let section)?: return section
        case .failure(let error)?: throw error
        case nil: throw EditPlanError.unitContentsUnavailable(unit: unit.rawValue, path: location.contentPath)
        }
    }

    /// Adds an enablement or alias link; an existing link to the same file is kept, one elsewhere is replaced.
    private mutating func link(_ path: String, to target: String, purpose: EditPlan.Addition.Purpose) throws {
        let placed = try view.placement(of: path, entry: path)
        if let existing = view.node(at: placed), additions[placed] == nil {
            guard existing.kind == .symlink else {
                throw EditPlanError.conflict(path: placed, message: "cannot create a link: \(Self.describe(existing)) is there")
            }
            let here = RootPath.parent(of: placed)
            let old = existing.symlinkTarget ?? ""
            let oldDestination = try? view.resolve(old.hasPrefix("/") ? old : RootPath.join(here, old),
                                                   followingFinal: true, entry: placed)
            let newDestination = try? view.resolve(target, followingFinal: true, entry: placed)
            if old == target || (oldDestination != nil && oldDestination == newDestination) {
                notes.append("\(placed): already links to \(old); left as it is")
                return
            }
            try remove(placed, reason: .replacedByAddition)
        }
        try add(EditPlan.Addition(path: placed, kind: .symlink, permissions: 0o777, mtime: mtime,
                                  symlinkTarget: target, purpose: purpose),
                entry: path)
    }

    /// Expands the specifiers `systemctl enable` knows in `[Install]` values: %n %N %p %i %%.
    static func expand(_ value: String, for name: UnitName, of unit: UnitName) throws -> String {
        var result = ""
        var characters = value.makeIterator()
        while let character = characters.next() {
            guard character == "%" else {
                result.append(character)
                continue
            }
            switch characters.next() {
            case "n": result += name.rawValue
            case "N": result += name.stem
            case "p": result += name.prefix
            case "i": result += name.instance ?? ""
            case "%": result += "%"
            default: throw EditPlanError.unsupportedSpecifier(unit: unit.rawValue, value: value)
            }
        }
        return result
    }
}
