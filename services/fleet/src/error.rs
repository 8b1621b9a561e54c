codex_central_proto::service_error!(codex_central_store::Error);
