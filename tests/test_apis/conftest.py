from _video_fixtures import single_torch_thread  # noqa: F401
