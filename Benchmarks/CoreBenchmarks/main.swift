// Micro-benchmarks of the scheduling core. Run: swift run -c release CoreBenchmarks
print("no benchmarks yet")
