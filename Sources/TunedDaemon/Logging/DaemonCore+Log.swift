extension DaemonCore {
    /// The plain `log(_:)` of the first version, kept so that code written against it still
    /// builds; new code uses `logger` with a level.
    @available(*, deprecated, message: "use logger.info/notice/warning/error")
    nonisolated func log(_ message: String) { logger.info("\(message)") }
}
