extension Duration {
    /// Whole microseconds (truncated), e.g. for sd_notify's `*_USEC` fields and log figures.
    @inlinable public var wholeMicroseconds: Int64 { components.seconds * 1_000_000 + components.attoseconds / 1_000_000_000_000 }

    /// Whole milliseconds (truncated), for timeouts counted in milliseconds.
    @inlinable public var wholeMilliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }

    /// Seconds with their fraction, for histograms.
    @inlinable public var fractionalSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
