print("RESULT placeholder=0")
