"""ember.transforms against numpy references (and torch's interpolate where torch is installed):
conversion, normalization, flips, crops, padding, resizing, rotation, composition and their randomness."""
import numpy as np
import pytest

import ember
from ember import transforms
from ember.transforms import functional as F


def _image(height=4, width=5, channels=3, dtype=np.uint8):
    return (np.arange(height * width * channels) % 251).astype(dtype).reshape(height, width, channels)


def _as_tensor(image, device):
    """A CxHxW tensor holding the same pixels as an HxWxC numpy image."""
    return ember.tensor(np.ascontiguousarray(image.transpose(2, 0, 1)), device=device)


def _as_image(tensor):
    return tensor.cpu().numpy().transpose(1, 2, 0)


def test_to_tensor_scales_uint8_images_to_chw_floats_in_unit_range():
    image = _image()
    tensor = transforms.ToTensor()(image)
    assert tensor.shape == (3, 4, 5) and tensor.dtype == ember.float32
    np.testing.assert_allclose(tensor.numpy(), image.transpose(2, 0, 1) / 255.0, rtol=1e-6)


def test_to_tensor_adds_a_channel_to_grayscale_and_keeps_other_dtypes():
    assert transforms.ToTensor()(np.zeros((2, 3), np.uint8)).shape == (1, 2, 3)
    floats = transforms.ToTensor()(np.full((2, 2, 1), 7.5))
    assert floats.dtype == ember.float64 and floats.numpy().max() == 7.5


@pytest.mark.parametrize("pic, error", [([[1, 2]], TypeError), (np.zeros((1, 2, 3, 4)), ValueError)])
def test_to_tensor_rejects_non_images(pic, error):
    with pytest.raises(error, match="pic should be"):
        transforms.ToTensor()(pic)


def test_normalize_subtracts_mean_and_divides_by_std_per_channel(device):
    tensor = ember.ones(2, 3, 3, device=device)
    out = transforms.Normalize((0.5, 0.25), (0.5, 0.25))(tensor)
    assert out.device == device
    np.testing.assert_allclose(out.cpu().numpy()[:, 0, 0], [1.0, 3.0])
    assert tensor.cpu().numpy().max() == 1.0


def test_normalize_inplace_writes_into_the_input(device):
    tensor = ember.ones(1, 2, 2, device=device)
    out = transforms.Normalize([1.0], [2.0], inplace=True)(tensor)
    assert out is tensor
    assert tensor.cpu().numpy().tolist() == [[[0.0, 0.0], [0.0, 0.0]]]


@pytest.mark.parametrize(
    "value, error, message",
    [
        (np.zeros((1, 2, 2), np.float32), TypeError, "img should be Tensor Image"),
        (ember.ones(1, 2, 2, dtype=ember.int64), TypeError, "Input tensor should be a float tensor"),
        (ember.ones(2, 2), ValueError, r"Expected tensor to be a tensor image of size \(..., C, H, W\)"),
    ],
)
def test_normalize_argument_errors(value, error, message):
    with pytest.raises(error, match=message):
        transforms.Normalize([0.0], [1.0])(value)


def test_normalize_rejects_a_zero_std():
    with pytest.raises(ValueError, match="std evaluated to zero"):
        transforms.Normalize([0.0], [0.0])(ember.ones(1, 2, 2))


def test_compose_applies_transforms_in_order_and_lists_them():
    compose = transforms.Compose([transforms.Lambda(lambda x: x + 1), transforms.Lambda(lambda x: x * 10)])
    assert compose(1) == 20
    assert repr(transforms.Compose([transforms.ToTensor()])) == "Compose(\n    ToTensor()\n)"


def test_lambda_rejects_non_callables():
    with pytest.raises(TypeError, match="Argument lambd should be callable"):
        transforms.Lambda(3)


@pytest.mark.parametrize(
    "transform, reference",
    [
        (transforms.RandomHorizontalFlip(p=1.0), lambda a: a[:, ::-1]),
        (transforms.RandomVerticalFlip(p=1.0), lambda a: a[::-1]),
        (transforms.RandomHorizontalFlip(p=0.0), lambda a: a),
        (transforms.RandomVerticalFlip(p=0.0), lambda a: a),
    ],
)
def test_flips_on_numpy_images_and_tensors(transform, reference, device):
    image = _image()
    np.testing.assert_array_equal(transform(image), reference(image))
    flipped = transform(_as_tensor(image, device))
    assert flipped.device == device
    np.testing.assert_array_equal(_as_image(flipped), reference(image))


def test_random_transforms_are_reproducible_from_manual_seed():
    pipeline = transforms.Compose(
        [transforms.RandomHorizontalFlip(), transforms.RandomCrop(3, padding=1), transforms.RandomRotation(30)]
    )
    image = _image(6, 6)
    ember.manual_seed(0)
    first = [pipeline(image) for _ in range(5)]
    ember.manual_seed(0)
    assert all(np.array_equal(a, pipeline(image)) for a in first)


def test_random_horizontal_flip_flips_about_half_the_time():
    image = _image(1, 2, 1)
    flips = sum(transforms.RandomHorizontalFlip()(image)[0, 0, 0] != image[0, 0, 0] for _ in range(400))
    assert 140 < flips < 260


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
def test_pad_matches_numpy_pad_on_images_and_tensors(mode, device):
    image = _image()
    expected = np.pad(image, [(2, 3), (1, 4), (0, 0)], mode=mode)
    np.testing.assert_array_equal(F.pad(image, [1, 2, 4, 3], padding_mode=mode), expected)
    padded = F.pad(_as_tensor(image, device), [1, 2, 4, 3], padding_mode=mode)
    assert padded.device == device
    np.testing.assert_array_equal(_as_image(padded), expected)


def test_pad_fills_constant_borders_per_channel():
    out = F.pad(_image(2, 2), 1, fill=(7, 8, 9))
    assert out[0, 0].tolist() == [7, 8, 9] and out[-1, -1].tolist() == [7, 8, 9]
    with pytest.raises(ValueError, match="fill has 2 values but the image has 3 channels"):
        F.pad(_image(2, 2), 1, fill=(7, 8))


def test_random_crop_returns_a_window_of_the_padded_image():
    image = _image(6, 7)
    padded = np.pad(image, [(2, 2), (2, 2), (0, 0)])
    for _ in range(10):
        out = transforms.RandomCrop((4, 5), padding=2)(image)
        assert out.shape == (4, 5, 3)
        windows = [padded[i : i + 4, j : j + 5] for i in range(7) for j in range(7)]
        assert any(np.array_equal(out, w) for w in windows)


def test_random_crop_pads_if_needed_and_rejects_a_crop_larger_than_the_image():
    assert transforms.RandomCrop(8, pad_if_needed=True)(_image(5, 6)).shape == (8, 8, 3)
    with pytest.raises(ValueError, match=r"Required crop size \(8, 8\) is larger than input image size \(5, 6\)"):
        transforms.RandomCrop(8)(_image(5, 6))


def test_center_crop_takes_the_middle_and_zero_pads_small_images(device):
    image = _image(6, 7)
    np.testing.assert_array_equal(transforms.CenterCrop((2, 3))(image), image[2:4, 2:5])
    tensor_crop = transforms.CenterCrop(4)(_as_tensor(image, device))
    np.testing.assert_array_equal(_as_image(tensor_crop), image[1:5, 2:6])
    grown = transforms.CenterCrop(8)(image)
    assert grown.shape == (8, 8, 3)
    np.testing.assert_array_equal(grown[1:7, 0:7], image)
    assert grown[0].max() == 0


@pytest.mark.parametrize(
    "size, max_size, expected", [(3, None, (3, 6)), ((5, 2), None, (5, 2)), ([4], None, (4, 8)), (3, 5, (2, 5))]
)
def test_resize_output_size_follows_torchvision(size, max_size, expected):
    assert transforms.Resize(size, max_size=max_size)(_image(6, 12)).shape[:2] == expected


def test_resize_nearest_picks_source_pixels_like_pytorch():
    image = _image(4, 6)
    out = transforms.Resize((2, 4), interpolation=transforms.InterpolationMode.NEAREST)(image)
    np.testing.assert_array_equal(out, image[[0, 2]][:, [0, 1, 3, 4]])


def test_resize_bilinear_keeps_uint8_and_constant_images():
    image = np.full((5, 7, 3), 200, np.uint8)
    out = transforms.Resize((9, 3))(image)
    assert out.dtype == np.uint8 and (out == 200).all()


@pytest.mark.parametrize("antialias", [True, False])
@pytest.mark.parametrize("size", [(7, 13), (3, 4), (9, 2)])
def test_resize_bilinear_matches_torch_interpolate(size, antialias, device):
    torch = pytest.importorskip("torch")
    image = np.random.default_rng(0).random((2, 6, 8)).astype(np.float32)
    expected = torch.nn.functional.interpolate(
        torch.from_numpy(image)[None], size=size, mode="bilinear", align_corners=False, antialias=antialias
    )[0].numpy()
    out = F.resize(ember.tensor(image, device=device), list(size), antialias=antialias)
    assert out.device == device
    np.testing.assert_allclose(out.cpu().numpy(), expected, atol=1e-5)


def test_resize_argument_errors():
    with pytest.raises(ValueError, match="interpolation should be one of"):
        transforms.Resize(3, interpolation="bicubic")
    with pytest.raises(ValueError, match="max_size = 3 must be strictly greater"):
        transforms.Resize(3, max_size=3)(_image())
    with pytest.raises(ValueError, match="max_size should only be passed"):
        transforms.Resize((3, 3), max_size=5)(_image())


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_rotate_by_quarter_turns_matches_rot90(interpolation, device):
    image = _image(5, 5)
    np.testing.assert_array_equal(F.rotate(image, 90, interpolation), np.rot90(image))
    np.testing.assert_array_equal(F.rotate(image, -90, interpolation), np.rot90(image, -1))
    np.testing.assert_array_equal(F.rotate(image, 0, interpolation), image)
    rotated = F.rotate(_as_tensor(image, device), 90, interpolation)
    np.testing.assert_array_equal(_as_image(rotated), np.rot90(image))


def test_rotate_expand_holds_the_whole_image_and_fill_covers_the_rest():
    image = np.full((4, 6, 1), 9, np.uint8)
    assert F.rotate(image, 90, expand=True).shape == (6, 4, 1)
    turned = F.rotate(image, 45, expand=True, fill=3)
    assert turned.shape == (8, 8, 1)
    assert turned[0, 0, 0] == 3 and turned[4, 4, 0] == 9


def test_random_rotation_argument_errors():
    with pytest.raises(ValueError, match="it must be positive"):
        transforms.RandomRotation(-5)
    with pytest.raises(ValueError, match="it must be of len 2"):
        transforms.RandomRotation([1, 2, 3])


def test_transforms_reject_non_images():
    with pytest.raises(TypeError, match="img should be an ember Tensor or a numpy ndarray"):
        transforms.CenterCrop(2)([[1, 2]])
