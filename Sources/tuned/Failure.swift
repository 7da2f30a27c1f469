/// A problem with what the user handed in (a file, a configuration): printed as one
/// `Error: …` line, exit status 1, without the usage text that `ValidationError` adds for
/// mistakes in the command line itself.
struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
