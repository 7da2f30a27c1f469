import Testing
@testable import TunedStore
@Test func placeholder() {}
