/// Reading the main header's tags into the format-neutral metadata and the file list.
extension RPMPackage {
    static func metadata(of header: RPMHeader, files: [RPMFile]) throws(PackageError) -> PackageMetadata {
        func required(_ tag: RPMTag) throws(PackageError) -> String {
            guard let value = try header.string(tag), !value.isEmpty else {
                throw .corrupt(path: header.path, reason: "the main header has no \(tag)")
            }
            return value
        }
        let name = try required(.name)
        let epoch = try header.integers(.epoch)?.first ?? 0
        guard epoch >= 0, epoch <= Int64(Int32.max) else {
            throw .corrupt(path: header.path, reason: "EPOCH \(epoch) is out of range")
        }
        let version = PackageVersion(epoch: Int(epoch), version: try required(.version),
                                     release: try required(.release), format: .rpm)
        let provides = try relations(header, names: .provideName, flags: .provideFlags, versions: .provideVersion)
            .map { PackageProvide(name: $0.name, version: $0.constraint?.version) }
        let requirements = try relations(header, names: .requireName, flags: .requireFlags, versions: .requireVersion)
            .flatMap { RPMRichDependency.requirements(for: $0) }
        return PackageMetadata(format: .rpm, name: name, version: version, architecture: try required(.arch),
                               provides: provides, requirements: requirements, files: files.map(\.path))
    }

    /// Name, flags and version arrays zipped into dependencies; the three must have one value per name.
    private static func relations(_ header: RPMHeader, names: RPMTag, flags: RPMTag,
                                  versions: RPMTag) throws(PackageError) -> [Dependency] {
        guard let names = try header.strings(names) else { return [] }
        let flagValues = try header.integers(flags) ?? Array(repeating: 0, count: names.count)
        let versionValues = try header.strings(versions) ?? Array(repeating: "", count: names.count)
        guard flagValues.count == names.count, versionValues.count == names.count else {
            throw .corrupt(path: header.path, reason: "\(names.count) dependency names but \(flagValues.count) "
                + "flags and \(versionValues.count) versions")
        }
        return names.indices.map { index in
            let flag = flagValues[index]
            let version = versionValues[index]
            var constraint: VersionConstraint?
            if !version.isEmpty, let relation = RPMSense.relation(flag) {
                constraint = VersionConstraint(relation, PackageVersion(parsing: version, format: .rpm))
            }
            return Dependency(name: names[index], constraint: constraint,
                              isRPMLibFeature: flag & RPMSense.rpmlib != 0 || names[index].hasPrefix("rpmlib("))
        }
    }

    /// The header's file list: compressed (DIRNAMES + BASENAMES + DIRINDEXES) or old (OLDFILENAMES) names,
    /// with the per-file arrays that must each have one value per file.
    static func files(of header: RPMHeader) throws(PackageError) -> [RPMFile] {
        let paths: [String]
        if let baseNames = try header.strings(.baseNames) {
            let directories = try header.strings(.dirNames) ?? []
            let indexes = try header.integers(.dirIndexes) ?? []
            guard indexes.count == baseNames.count else {
                throw .corrupt(path: header.path, reason: "\(baseNames.count) file names but \(indexes.count) directory indexes")
            }
            var built: [String] = []
            built.reserveCapacity(baseNames.count)
            for (baseName, index) in zip(baseNames, indexes) {
                guard index >= 0, index < Int64(directories.count) else {
                    throw .corrupt(path: header.path, reason: "\(baseName): directory index \(index) outside the "
                        + "\(directories.count) directory names")
                }
                built.append(directories[Int(index)] + baseName)
            }
            paths = built
        } else {
            paths = try header.strings(.oldFilenames) ?? []
        }
        guard !paths.isEmpty else { return [] }

        func perFile<T>(_ tag: RPMTag, _ values: [T]?) throws(PackageError) -> [T]? {
            guard let values else { return nil }
            guard values.count == paths.count else {
                throw .corrupt(path: header.path, reason: "\(tag) has \(values.count) values for \(paths.count) files")
            }
            return values
        }
        let modes = try perFile(.fileModes, header.integers(.fileModes))
        var sizes = try perFile(.longFileSizes, header.integers(.longFileSizes))
        if sizes == nil { sizes = try perFile(.fileSizes, header.integers(.fileSizes)) }
        let users = try perFile(.fileUserName, header.strings(.fileUserName))
        let groups = try perFile(.fileGroupName, header.strings(.fileGroupName))
        let links = try perFile(.fileLinkTos, header.strings(.fileLinkTos))
        let flags = try perFile(.fileFlags, header.integers(.fileFlags))

        var files: [RPMFile] = []
        files.reserveCapacity(paths.count)
        for index in paths.indices {
            guard let path = PackagePath.normalize(paths[index]) else {
                throw .corrupt(path: header.path, reason: "unsafe file name \"\(paths[index])\" in the header's file list")
            }
            let mode = UInt32(truncatingIfNeeded: modes?[index] ?? 0o100644)
            let link = links?[index]
            files.append(RPMFile(path: path, mode: mode, size: sizes?[index] ?? 0,
                                 userName: users?[index], groupName: groups?[index],
                                 linkTarget: mode & 0o170000 == 0o120000 && link?.isEmpty == false ? link : nil,
                                 flags: flags?[index] ?? 0))
        }
        return files
    }
}
