"""The tax app (税税通 in 青岛, 移动办税 in 西藏): our own accounts instead of a platform's OAuth."""
