/// A task file's `[features]` table: the features-file schema (docs/META.md), validated by
/// the same `TaskFeaturesFile.validate`, its problems reported with the file's others
/// (`task.toml:14: [features] model_kind: …`). It describes a command workload to the
/// recommendation policy, or refines what a built-in workload computes about itself.
extension TaskValidator {
    mutating func validateFeatures(_ table: DocTable) -> TaskDescription {
        let (description, found) = TaskFeaturesFile.validate(table, file: file) { field("features", $0) }
        problems += found
        return description
    }
}
