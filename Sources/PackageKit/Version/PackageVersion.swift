/// A package version as `[epoch:]version[-release]`, ordered by its format's rules.
///
/// RPM calls the parts epoch, version and release and orders them with `rpmvercmp`; dpkg calls them epoch,
/// upstream version and Debian revision and orders them with its own algorithm. Both sort `~` before anything
/// (even the end of the string); RPM sorts `^` after the end of the string but before anything else.
///
/// Equality of values is textual (`1.0` and `1.00` are different values); use `compare(to:)` for ordering,
/// where those two are the same version.
public struct PackageVersion: Sendable, Hashable, CustomStringConvertible {
    /// Whose rules order this version.
    public var format: PackageFormat
    /// The epoch; 0 when the text has none.
    public var epoch: Int
    /// RPM's version, dpkg's upstream version.
    public var version: String
    /// RPM's release, dpkg's Debian revision; nil when the text has none.
    public var release: String?

    public init(epoch: Int = 0, version: String, release: String? = nil, format: PackageFormat) {
        self.format = format
        self.epoch = epoch
        self.version = version
        self.release = release
    }

    /// Parses `[epoch:]version[-release]`: the epoch ends at the first `:` (when all digits before it), the
    /// release starts after the last `-`. Never fails: text that is not a valid epoch stays part of the version.
    public init(parsing text: String, format: PackageFormat) {
        var rest = Substring(text)
        var epoch = 0
        if let colon = rest.firstIndex(of: ":") {
            let digits = rest[..<colon]
            if !digits.isEmpty, digits.utf8.allSatisfy({ (0x30 ... 0x39).contains($0) }), let value = Int(digits) {
                epoch = value
                rest = rest[rest.index(after: colon)...]
            }
        }
        var release: String?
        if let dash = rest.lastIndex(of: "-") {
            release = String(rest[rest.index(after: dash)...])
            rest = rest[..<dash]
        }
        self.init(epoch: epoch, version: String(rest), release: release, format: format)
    }

    public var description: String {
        var text = epoch != 0 ? "\(epoch):\(version)" : version
        if let release { text += "-" + release }
        return text
    }

    /// Orders this version against `other` by this version's format: negative when older, 0 when the same
    /// version, positive when newer.
    ///
    /// RPM compares releases only when both versions have one (`>= 1.0` is met by `1.0-3`), as rpm does for
    /// dependencies; dpkg treats a missing revision as empty (so `1.0` is older than `1.0-1`).
    public func compare(to other: PackageVersion) -> Int {
        if epoch != other.epoch { return epoch < other.epoch ? -1 : 1 }
        switch format {
        case .deb:
            let upstream = DpkgVersionOrder.compare(version, other.version)
            if upstream != 0 { return upstream }
            return DpkgVersionOrder.compare(release ?? "", other.release ?? "")
        case .rpm:
            let main = RPMVersionOrder.compare(version, other.version)
            if main != 0 { return main }
            guard let release, let otherRelease = other.release, !release.isEmpty, !otherRelease.isEmpty else { return 0 }
            return RPMVersionOrder.compare(release, otherRelease)
        }
    }

    /// Whether this version sorts after `other`.
    public func isNewer(than other: PackageVersion) -> Bool { compare(to: other) > 0 }
}
