#!/usr/bin/env bash
# Regenerates the committed Swift code for our .proto files with protoc (Debian's
# protobuf-compiler) and protoc-gen-swift built from the swift-protobuf version this package
# resolves. Run from anywhere: scripts/generate-protos.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
command -v protoc >/dev/null || { echo "protoc missing: apt-get install protobuf-compiler" >&2; exit 1; }
swift package resolve
plugin_src=.build/checkouts/swift-protobuf
scratch=.build-protoc-gen-swift
swift build -c release --package-path "$plugin_src" --product protoc-gen-swift --scratch-path "$scratch"
plugin="$scratch/release/protoc-gen-swift"
protoc --plugin=protoc-gen-swift="$plugin" -I Protos -I /usr/include \
  --swift_opt=Visibility=Internal --swift_opt=FileNaming=DropPath \
  --swift_out=Sources/FlightRPC/Generated Protos/Flight.proto
# Flight SQL messages are public: a FlightSQLService implementation reads and fills them.
protoc --plugin=protoc-gen-swift="$plugin" -I Protos -I /usr/include \
  --swift_opt=Visibility=Public --swift_opt=FileNaming=DropPath \
  --swift_out=Sources/FlightSQL/Generated Protos/FlightSql.proto
# Spark Connect and google.rpc messages have package visibility: the SparkConnect target builds
# and reads them, and they stay out of its public API.
mkdir -p Sources/SparkConnect/Generated
protoc --plugin=protoc-gen-swift="$plugin" -I Protos -I /usr/include \
  --swift_opt=Visibility=Package --swift_opt=FileNaming=DropPath \
  --swift_out=Sources/SparkConnect/Generated Protos/SparkConnect.proto Protos/GoogleRPC.proto
echo "generated: Sources/FlightRPC/Generated/Flight.pb.swift Sources/FlightSQL/Generated/FlightSql.pb.swift" \
  "Sources/SparkConnect/Generated/SparkConnect.pb.swift Sources/SparkConnect/Generated/GoogleRPC.pb.swift"
