"""Generated gRPC/protobuf stubs for corridor.v1. Do not edit: run `make proto`."""
