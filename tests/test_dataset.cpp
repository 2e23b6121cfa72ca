// Datasets on disk (engine/data/dataset): COCO, YOLO and the second seed's CSV, in one folder or
// split folders; letterboxing and box mapping; the held-out validation split; and every bad
// dataset refused with an error that names the file and the entry.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "engine/data/dataset.h"
#include "engine/io/image.h"
#include "kernels/base/error.h"

namespace {

using namespace locdet;
namespace fs = std::filesystem;

class DatasetFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ =
        fs::temp_directory_path() /
        ("locdet_dataset_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  std::string path(const std::string& relative) const { return (root_ / relative).string(); }
  void write(const std::string& relative, const std::string& text) const {
    fs::create_directories(fs::path(path(relative)).parent_path());
    std::ofstream(path(relative), std::ios::binary) << text;
  }
  // A w x h gray PNG whose pixel (x, y) is (x + 2 y + seed) % 200 + 20, so copies can be checked.
  void image(const std::string& relative, int w, int h, int seed = 0) const {
    fs::create_directories(fs::path(path(relative)).parent_path());
    std::vector<float> pixels(static_cast<size_t>(w) * h);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) pixels[y * w + x] = ((x + 2 * y + seed) % 200 + 20) / 255.0f;
    io::write_png_gray(path(relative), pixels.data(), h, w, false);
  }
  // COCO with two categories (ids 5 "cat", 2 "dog") and images a.png (two boxes), b.png (none).
  void coco_folder(const std::string& dir = "") const {
    const std::string prefix = dir.empty() ? "" : dir + "/";
    image(prefix + "images/a.png", 32, 24, 1);
    image(prefix + "images/b.png", 32, 24, 2);
    write(prefix + "annotations.json", R"({
      "images": [{"id": 1, "file_name": "images/a.png", "width": 32, "height": 24},
                 {"id": 2, "file_name": "images/b.png", "width": 32, "height": 24}],
      "annotations": [{"id": 1, "image_id": 1, "category_id": 5, "bbox": [2, 3, 10, 8], "iscrowd": 0},
                      {"id": 2, "image_id": 1, "category_id": 2, "bbox": [20, 10, 6, 12]}],
      "categories": [{"id": 5, "name": "cat"}, {"id": 2, "name": "dog"}]})");
  }
  // Expects load_dataset to fail with every one of `parts` in its message.
  void expect_refused(const std::vector<std::string>& parts, const DatasetOptions& options = {}) const {
    try {
      load_dataset(root_.string(), options);
      ADD_FAILURE() << "the dataset was accepted; expected an error with '" << parts.front() << "'";
    } catch (const Error& e) {
      for (const std::string& part : parts)
        EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
            << "'" << part << "' missing in: " << e.what();
    }
  }

  fs::path root_;
};

TEST_F(DatasetFiles, CocoFolderKeepsPixelsBoxesAndCategoriesInIdOrder) {
  coco_folder();
  const Dataset d = load_dataset(root_.string());
  EXPECT_EQ(d.format, "coco");
  EXPECT_EQ(d.layout, "one folder");
  EXPECT_EQ(d.height, 24);
  EXPECT_EQ(d.width, 32);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"dog", "cat"}));  // ids 2, 5
  ASSERT_EQ(d.size(), 2);
  EXPECT_EQ(d.images[0].file, "images/a.png");
  ASSERT_EQ(d.images[0].box_count, 2);
  EXPECT_EQ(d.images[1].box_count, 0);
  const DatasetBox* boxes = d.image_boxes(0);
  EXPECT_EQ(boxes[0].cls, 1);  // cat
  EXPECT_EQ(boxes[1].cls, 0);  // dog
  const float expected[2][4] = {{2, 3, 12, 11}, {20, 10, 26, 22}};
  for (int k = 0; k < 2; ++k)
    for (int j = 0; j < 4; ++j) EXPECT_FLOAT_EQ(boxes[k].box[j], expected[k][j]);
  for (int y = 0; y < 24; ++y)
    for (int x = 0; x < 32; ++x) ASSERT_EQ(d.image_pixels(1)[y * 32 + x], (x + 2 * y + 2) % 200 + 20);
}

TEST_F(DatasetFiles, YoloFolderWithClassNamesAndABackgroundImage) {
  image("images/p.png", 40, 20);
  image("images/q.jpg", 40, 20);  // no label file: an image without boxes
  write("labels/p.txt", "1 0.5 0.5 0.5 0.4\n\n0 0.125 0.25 0.25 0.5\n");
  write("classes.txt", "zero\none\n");
  const Dataset d = load_dataset(root_.string());
  EXPECT_EQ(d.format, "yolo");
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"zero", "one"}));
  ASSERT_EQ(d.size(), 2);
  ASSERT_EQ(d.images[0].box_count, 2);
  EXPECT_EQ(d.images[1].box_count, 0);
  const DatasetBox* b = d.image_boxes(0);
  EXPECT_EQ(b[0].cls, 1);
  EXPECT_FLOAT_EQ(b[0].box[0], 10);
  EXPECT_FLOAT_EQ(b[0].box[1], 6);
  EXPECT_FLOAT_EQ(b[0].box[2], 30);
  EXPECT_FLOAT_EQ(b[0].box[3], 14);
  EXPECT_FLOAT_EQ(b[1].box[2], 10);
  EXPECT_FLOAT_EQ(b[1].box[3], 10);
}

TEST_F(DatasetFiles, SecondSeedCsvInPixelsOrNormalized) {
  image("0.png", 20, 20);
  image("1.png", 20, 20);
  image("2.png", 20, 20);
  write("training_data.csv", "file,x1,y1,x2,y2,class\n0.png,2,3,12,13,7\n1.png,0,0,20,20,3\n2.png,,,,,\n");
  Dataset d = load_dataset(root_.string());
  EXPECT_EQ(d.format, "csv");
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"3", "7"}));  // numeric order
  ASSERT_EQ(d.size(), 3);
  EXPECT_EQ(d.images[2].box_count, 0);
  EXPECT_EQ(d.image_boxes(0)[0].cls, 1);
  EXPECT_FLOAT_EQ(d.image_boxes(0)[0].box[2], 12);

  write("training_data.csv", "0.png,0.1,0.15,0.6,0.65,7\n1.png,0,0,1,1,3\n");  // no header, normalized
  d = load_dataset(root_.string());
  ASSERT_EQ(d.size(), 2);
  EXPECT_FLOAT_EQ(d.image_boxes(0)[0].box[0], 2);
  EXPECT_FLOAT_EQ(d.image_boxes(0)[0].box[3], 13);
  EXPECT_FLOAT_EQ(d.image_boxes(1)[0].box[2], 20);
}

TEST_F(DatasetFiles, SplitFoldersKeepTheirSplitsAndTheValSplitIsUsed) {
  coco_folder("train");
  coco_folder("valid");  // Roboflow's name for val
  const Dataset d = load_dataset(root_.string());
  EXPECT_EQ(d.layout, "split folders");
  ASSERT_EQ(d.size(), 4);
  EXPECT_TRUE(d.has_split("train"));
  EXPECT_TRUE(d.has_split("val"));
  EXPECT_FALSE(d.has_split("test"));
  const DatasetSplits s = split_dataset(d, 0.1, 0);
  EXPECT_EQ(s.train, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(s.val, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(s.val_source, "the dataset's val split");
  DatasetOptions only_val;
  only_val.splits = {"val"};
  EXPECT_EQ(load_dataset(root_.string(), only_val).size(), 2);
  only_val.splits = {"test"};
  expect_refused({"has no test split", "train, val"}, only_val);
}

TEST_F(DatasetFiles, UltralyticsAndCocoOwnLayouts) {
  image("images/train/a.png", 16, 16);
  image("images/val/b.png", 16, 16);
  write("labels/train/a.txt", "2 0.5 0.5 0.5 0.5\n");
  write("labels/val/b.txt", "0 0.5 0.5 0.25 0.25\n");
  write("data.yaml", "path: .\ntrain: images/train\nnames:\n  0: ant\n  1: bee\n  2: cow\nnc: 3\n");
  Dataset d = load_dataset(root_.string());
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"ant", "bee", "cow"}));
  EXPECT_EQ(d.images[0].split, "train");
  EXPECT_EQ(d.images[1].split, "val");
  write("data.yaml", "names: ['ant', \"bee\", cow]\n");
  EXPECT_EQ(load_dataset(root_.string()).class_names, (std::vector<std::string>{"ant", "bee", "cow"}));
  write("data.yaml", "names:\n  - ant\n  - bee\n  - cow\ntrain: x\n");
  EXPECT_EQ(load_dataset(root_.string()).class_names, (std::vector<std::string>{"ant", "bee", "cow"}));

  fs::remove_all(root_);
  image("train2017/a.png", 16, 16);
  image("val2017/b.png", 16, 16);
  const std::string coco = R"({"images": [{"id": 1, "file_name": "NAME"}],
    "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 4, 4]}],
    "categories": [{"id": 1, "name": "x"}]})";
  write("annotations/instances_train2017.json", std::regex_replace(coco, std::regex("NAME"), "a.png"));
  write("annotations/instances_val2017.json", std::regex_replace(coco, std::regex("NAME"), "b.png"));
  d = load_dataset(root_.string());
  ASSERT_EQ(d.size(), 2);
  EXPECT_EQ(d.images[0].split, "train");
  EXPECT_EQ(d.images[1].file, "val2017/b.png");
}

TEST_F(DatasetFiles, ImagesOfOtherSizesAndChannelsAreLetterboxedWithTheirBoxes) {
  // The typical size is 32x24; a 64x24 RGB image is scaled by 0.5 and centred vertically.
  coco_folder();
  io::RgbImage wide(64, 24, {0, 0, 0});
  for (int y = 8; y < 16; ++y)
    for (int x = 8; x < 24; ++x) wide.set(x, y, {255, 255, 255});
  io::write_png(path("images/c.png"), wide, false);
  write("annotations.json", R"({
    "images": [{"id": 1, "file_name": "images/a.png"}, {"id": 2, "file_name": "images/b.png"},
               {"id": 3, "file_name": "images/c.png"}],
    "annotations": [{"id": 1, "image_id": 1, "category_id": 0, "bbox": [2, 3, 10, 8]},
                    {"id": 2, "image_id": 3, "category_id": 0, "bbox": [8, 8, 16, 8]}],
    "categories": [{"id": 0, "name": "digit"}]})");
  const Dataset d = load_dataset(root_.string());
  EXPECT_EQ(d.width, 32);
  EXPECT_EQ(d.height, 24);
  const DatasetImage& c = d.images[2];
  EXPECT_FLOAT_EQ(c.scale, 0.5f);
  EXPECT_FLOAT_EQ(c.offset_x, 0);
  EXPECT_FLOAT_EQ(c.offset_y, 6);
  const DatasetBox& b = d.image_boxes(2)[0];
  EXPECT_FLOAT_EQ(b.box[0], 4);
  EXPECT_FLOAT_EQ(b.box[1], 10);
  EXPECT_FLOAT_EQ(b.box[2], 12);
  EXPECT_FLOAT_EQ(b.box[3], 14);
  const uint8_t* p = d.image_pixels(2);
  EXPECT_EQ(p[12 * 32 + 8], 255);  // inside the white block
  EXPECT_EQ(p[2 * 32 + 8], 0);     // the letterbox margin
  EXPECT_EQ(p[12 * 32 + 20], 0);   // black right of the block

  DatasetOptions input;
  input.height = 48;
  input.width = 48;
  const Dataset big = load_dataset(root_.string(), input);
  EXPECT_EQ(big.height, 48);
  EXPECT_FLOAT_EQ(big.images[0].scale, 1.5f);
  EXPECT_FLOAT_EQ(big.image_boxes(0)[0].box[0], 2 * 1.5f + 0);
  EXPECT_FLOAT_EQ(big.image_boxes(0)[0].box[1], 3 * 1.5f + 6);
}

TEST_F(DatasetFiles, HeldOutValidationIsSeededStableAndDisjoint) {
  std::string rows;
  for (int i = 0; i < 50; ++i) {
    image("img" + std::to_string(i) + ".png", 12, 12, i);
    rows += "img" + std::to_string(i) + ".png,1,1,6,6," + std::to_string(i % 3) + "\n";
  }
  write("labels.csv", rows);
  const Dataset d = load_dataset(root_.string());
  const DatasetSplits a = split_dataset(d, 0.2, 0), again = split_dataset(d, 0.2, 0),
                      other = split_dataset(d, 0.2, 1);
  EXPECT_EQ(a.val.size(), 10u);
  EXPECT_EQ(a.train.size(), 40u);
  EXPECT_TRUE(a.test.empty());
  EXPECT_EQ(a.val, again.val);
  EXPECT_NE(a.val, other.val);
  std::set<int64_t> all(a.train.begin(), a.train.end());
  for (int64_t v : a.val) EXPECT_TRUE(all.insert(v).second) << "image " << v << " is in both splits";
  EXPECT_EQ(all.size(), 50u);
  EXPECT_NE(a.val_source.find("held out: 10 of 50"), std::string::npos) << a.val_source;
}

// ---- bad datasets ---------------------------------------------------------------------------

TEST_F(DatasetFiles, MissingImageIsNamedWithItsEntry) {
  coco_folder();
  fs::remove(path("images/b.png"));
  expect_refused({"annotations.json: image id 2", "'images/b.png' not found"});
}

TEST_F(DatasetFiles, BoxOutsideTheImageIsNamedWithItsEntry) {
  coco_folder();
  write("annotations.json", R"({"images": [{"id": 1, "file_name": "images/a.png"}],
    "annotations": [{"id": 9, "image_id": 1, "category_id": 0, "bbox": [25, 3, 10, 8]}],
    "categories": [{"id": 0, "name": "x"}]})");
  expect_refused({"annotations.json: annotation id 9", "images/a.png", "reaches outside the 32x24 image"});
  write("annotations.json", R"({"images": [{"id": 1, "file_name": "images/a.png"}],
    "annotations": [{"id": 9, "image_id": 1, "category_id": 0, "bbox": [5, 3, 0, 8]}],
    "categories": [{"id": 0, "name": "x"}]})");
  expect_refused({"annotation id 9", "has no area"});
  // Within a pixel of the edge (rounding in other tools): accepted and clipped.
  write("annotations.json", R"({"images": [{"id": 1, "file_name": "images/a.png"}],
    "annotations": [{"id": 9, "image_id": 1, "category_id": 0, "bbox": [-0.5, 3, 33, 8]}],
    "categories": [{"id": 0, "name": "x"}]})");
  const Dataset d = load_dataset(root_.string());
  EXPECT_FLOAT_EQ(d.image_boxes(0)[0].box[0], 0);
  EXPECT_FLOAT_EQ(d.image_boxes(0)[0].box[2], 32);

  fs::remove(path("annotations.json"));
  write("labels/a.txt", "0 0.9 0.5 0.5 0.5\n");
  expect_refused({"labels/a.txt line 1", "reaches outside the 32x24 image", "normalized"});
}

TEST_F(DatasetFiles, UnknownCategoryIsNamedWithItsEntry) {
  coco_folder();
  write("annotations.json", R"({"images": [{"id": 1, "file_name": "images/a.png"}],
    "annotations": [{"id": 4, "image_id": 1, "category_id": 12, "bbox": [1, 1, 4, 4]}],
    "categories": [{"id": 0, "name": "x"}, {"id": 1, "name": "y"}]})");
  expect_refused({"annotations.json: annotation id 4", "category_id 12 is not in \"categories\""});
  fs::remove(path("annotations.json"));
  write("labels/a.txt", "3 0.5 0.5 0.25 0.25\n");
  write("classes.txt", "x\ny\n");
  expect_refused({"labels/a.txt line 1", "class 3 is not in classes.txt"});
  // A model's class list: a dataset class it lacks is refused by name.
  write("labels/a.txt", "1 0.5 0.5 0.25 0.25\n");
  DatasetOptions model;
  model.classes = {"x", "z"};
  expect_refused({"labels/a.txt line 1", "class 'y' is not one of the model's classes (x, z)"}, model);
}

TEST_F(DatasetFiles, LabelFileWithoutAnImageIsNamed) {
  image("images/a.png", 16, 16);
  write("labels/a.txt", "0 0.5 0.5 0.5 0.5\n");
  write("labels/ghost.txt", "0 0.5 0.5 0.5 0.5\n");
  expect_refused({"labels/ghost.txt: label file without an image"});
}

TEST_F(DatasetFiles, EmptyDatasetsAreRefused) {
  expect_refused({"holds no dataset", "annotations.json (COCO)"});
  write("annotations.json", R"({"images": [], "annotations": [], "categories": [{"id": 0, "name": "x"}]})");
  expect_refused({"lists no images"});
  image("images/a.png", 16, 16);
  write("annotations.json", R"({"images": [{"id": 1, "file_name": "images/a.png"}], "annotations": [],
    "categories": [{"id": 0, "name": "x"}]})");
  expect_refused({"1 images but not one box"});
}

TEST_F(DatasetFiles, MixedSizesBeyondTheLimitAreRefusedByName) {
  image("images/a.png", 32, 24);
  image("images/b.png", 32, 24);
  image("images/huge.png", 320, 240);
  write("labels/a.txt", "0 0.5 0.5 0.5 0.5\n");
  write("classes.txt", "x\n");
  expect_refused(
      {"images/huge.png", "is 320x240 but most images are 32x24", "10x smaller", "the limit is 2x"});
  DatasetOptions loose;
  loose.max_scale_ratio = 16;
  EXPECT_EQ(load_dataset(root_.string(), loose).size(), 3);
}

TEST_F(DatasetFiles, MalformedFilesAreRefusedWithFileAndLine) {
  image("images/a.png", 16, 16);
  write("annotations.json", "{\"images\": [");
  expect_refused({"annotations.json is not valid JSON"});
  write("annotations.json", R"({"images": [{"id": 1, "file_name": "images/a.png", "width": 20, "height": 16}],
    "annotations": [], "categories": [{"id": 0, "name": "x"}]})");
  expect_refused({"image id 1", "say 20x16", "is 16x16"});
  fs::remove(path("annotations.json"));
  write("labels/a.txt", "0 0.5 0.5 0.5 0.5 0.1 0.2\n");
  expect_refused({"labels/a.txt line 1", "5 numbers", "segmentation"});
  fs::remove_all(path("labels"));
  write("boxes.csv", "images/a.png,1,2,x,5,0\n");
  expect_refused({"boxes.csv line 1", "'x' is not a number"});
  write("other.csv", "\n");
  expect_refused({"2 CSV files"});
}

TEST(Dataset, AMissingFolderIsRefused) {
  EXPECT_THROW(load_dataset("/nonexistent/locdet/data"), Error);
}

}  // namespace
