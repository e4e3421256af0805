{
  "targets": [
    {
      "target_name": "xlt_native",
      "sources": ["native/addon.cc", "native/entry-checks.cc", "native/encoder.cc", "native/kernels.cc"],
      "include_dirs": ["/usr/include/x86_64-linux-gnu/openblas-pthread", "/usr/include/openblas"],
      "defines": ["NAPI_VERSION=8"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-fno-math-errno", "-fopenmp", "-fexceptions"],
      "conditions": [["target_arch=='x64'", {"cflags_cc": ["-march=x86-64-v3"], "defines": ["XLT_LIBMVEC"], "libraries": ["-lmvec"]}]],
      "ldflags": ["-fopenmp"],
      "libraries": ["-lopenblas", "-fopenmp"]
    }
  ]
}
