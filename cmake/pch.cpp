// Compiled only to produce the precompiled header the experiment binaries reuse.
