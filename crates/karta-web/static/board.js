// The pipeline board: drag and drop and keyboard moves of deal cards.
