// Placeholder: the fused selective scan is being written.
