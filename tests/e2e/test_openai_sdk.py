"""The official `openai` SDK, unmodified, against TurboServe: create, poll, retrieve, list, download, delete."""

from openai import OpenAI

from conftest import ffprobe


def test_t2v_and_i2v_with_the_official_sdk(server, png, tmp_path):
    client = OpenAI(api_key="not-needed-locally", base_url=server.url + "/v1")

    video = client.videos.create_and_poll(model="tiny-t2v", prompt="a red fox running through snow", seconds="1", size="112x64",
                                          extra_body={"steps": 2, "seed": 11}, poll_interval_ms=100)
    assert video.status == "completed" and video.progress == 100
    content = client.videos.download_content(video.id)
    t2v_path = tmp_path / "t2v.mp4"
    t2v_path.write_bytes(content.read())
    assert ffprobe(t2v_path) == "h264,112,64,17"

    with open(png, "rb") as image:
        i2v = client.videos.create_and_poll(model="tiny-i2v", prompt="waves on a shore", input_reference=image,
                                            size="64x64", seconds="1", poll_interval_ms=100)
    assert i2v.status == "completed"
    i2v_path = tmp_path / "i2v.mp4"
    i2v_path.write_bytes(client.videos.download_content(i2v.id).read())
    assert ffprobe(i2v_path) == "h264,64,64,17"
    thumbnail = client.videos.download_content(i2v.id, variant="thumbnail").read()
    assert thumbnail[:3] == b"\xff\xd8\xff"

    assert client.videos.retrieve(video.id).model == "tiny-t2v"
    listed = client.videos.list(limit=10)
    assert [v.id for v in listed.data] == [i2v.id, video.id]
    assert client.videos.delete(video.id).deleted
