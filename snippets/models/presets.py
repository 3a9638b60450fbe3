"""Build every released preset on the meta device and count its parameters and FLOPs."""

from difflearn.models import PRESETS, count_flops, count_params, create_model

stats = {}
for name in PRESETS:
    model = create_model(name, device="meta")  # structure only: no memory, no time
    stats[name] = (count_params(model), count_flops(model) / 1e9)  # FLOPs per image
    print(
        f"{name:26s} {stats[name][0] / 1e6:7.1f} M params {stats[name][1]:8.1f} GFLOPs"
    )

# the class-conditional 256x256 model differs from the unconditional one only by its
# class embedding: 1000 classes x (4 x 256) channels
assert (
    stats["256x256_diffusion"][0] - stats["256x256_diffusion_uncond"][0]
    == 1000 * 4 * 256
)
# the published H200 measurements of guided-diffusion imply these FLOPs per image
# (145 TFLOP/s at 661 img/s; 197 TFLOP/s at 87 img/s)
assert abs(stats["64x64_diffusion"][1] / (145e3 / 661) - 1) < 0.01
assert abs(stats["256x256_diffusion_uncond"][1] / (197e3 / 87) - 1) < 0.02
# LSUN models share the unconditional 256x256 architecture
assert stats["lsun_bedroom"] == stats["256x256_diffusion_uncond"]
