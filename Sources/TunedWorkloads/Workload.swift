// Workloads: objectives with exact gradients.
