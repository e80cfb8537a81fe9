/*
 * std::ios_base_library_init() as a no-op. TorchSharp 0.107's native glue was linked against GCC 13's libstdc++ and
 * needs this one symbol, versioned GLIBCXX_3.4.32; it only initializes iostreams, which older libstdc++ (GCC 12:
 * Debian 12) and libtorch already do. Compiled at build time only on machines whose libstdc++ lacks GLIBCXX_3.4.32,
 * and loaded with RTLD_GLOBAL before TorchSharp initializes (see LibTorchRuntime.cs).
 */
void _ZSt21ios_base_library_initv(void) {}
